from __future__ import annotations

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    """Render every form field as label, input, help text, then the errors right below it."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"
