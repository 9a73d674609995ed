"""FORMAT_MODULE_PATH (settings.py): the active language's formats would override the
settings' DATE_FORMAT and its kin, so the portal's one format is given as English's."""
