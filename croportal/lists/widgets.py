"""`QuickSelect`: a <select> written in Python.

Django renders a select through a template per option; a filter offering a trial's 150
deadline owners spent longer on its options than on the list's 50 rows. The markup is Django's
own (select.html, select_option.html and attrs.html): the same attributes, optgroups, selected
options and escaping, without the template engine. List filters use it for every plain select
(croportal.lists.spec.PortalFilterSet).
"""

from django import forms
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html: False omitted, True bare, the rest quoted."""
    return "".join(
        f" {name}" if value is True else f' {name}="{escape(str(value))}"'
        for name, value in attrs.items() if value is not False)


class QuickSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _ in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            parts.extend(f'\n  <option value="{escape(str(option["value"]))}"'
                         f'{_attrs(option["attrs"])}>{escape(str(option["label"]))}</option>\n'
                         for option in options)
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # every value escaped above


def quick(widget: forms.Select) -> QuickSelect:
    """The same select (attributes, choices, required) rendered by QuickSelect."""
    fast = QuickSelect(attrs=widget.attrs, choices=())
    fast.choices = widget.choices
    fast.is_required = widget.is_required
    fast.is_localized = widget.is_localized
    return fast
