"""Admin forms of the health app: the parameter's field picker comes from the registry."""

from django import forms

from health.fields import health_fields
from health.models import HealthConfig, HealthParameter
from segments.conditions import custom_definitions
from segments.models import Segment


def field_choices(*, current: str = "") -> list:
    """The numeric registry fields, grouped by registry group, each label saying which params it takes.

    `current`: a stored key no longer offered (e.g. a deleted custom attribute) stays selectable so
    that the form shows it, and validation says what is wrong with it.
    """
    groups: dict[str, list] = {}
    for field_ in health_fields(custom=custom_definitions().values()):
        takes = ", ".join(p.name + ("?" if p.optional else "") for p in field_.params)
        label = f"{field_.label} ({takes})" if takes else field_.label
        groups.setdefault(field_.group, []).append((field_.key, label))
    choices: list = [("", "---------")]
    offered = {key for options in groups.values() for key, _ in options}
    if current and current not in offered:
        choices.append((current, f"{current} (not available)"))
    return choices + list(groups.items())


class HealthParameterForm(forms.ModelForm):
    """One parameter: a field from the registry picker, its params as JSON, thresholds and weight."""

    field = forms.ChoiceField(choices=(), help_text="A numeric field of the condition language.")

    class Meta:
        model = HealthParameter
        fields = ("pillar", "field", "params", "direction", "good", "poor", "weight", "position")
        widgets = {"params": forms.TextInput(attrs={"size": 28, "placeholder": '{"days": 30}'})}
        help_texts = {"params": 'As in conditions, e.g. {"days": 30} or {"days": 30, "feature": "reports"}.'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = field_choices(current=self.instance.field or "")


class HealthConfigForm(forms.ModelForm):
    class Meta:
        model = HealthConfig
        fields = ("name", "segment", "good_cutoff", "poor_cutoff")


class CloneForm(forms.Form):
    """Where to copy a config: an account segment that has no config yet."""

    segment = forms.ModelChoiceField(queryset=Segment.objects.none())
    name = forms.CharField(max_length=100, required=False, help_text='Default: "<segment> health".')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.filter(kind="account", health_config__isnull=True).order_by(
            "order", "name")
