"""Post an admin change form as a person would: its current values, with some changed."""


def admin_form_data(client, url: str, **changes) -> dict:
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            value = ""
        elif isinstance(value, list | tuple):
            value = list(value)
        elif field.widget.__class__.__name__ == "CheckboxInput" and not value:
            continue
        data[name] = value
    data.update(changes)
    return data
