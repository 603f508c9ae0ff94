"""The labels of select and multiselect attributes, for the ``option_label`` and ``option_labels`` transforms.

Magento's REST API gives a select attribute's value as its option id (``"12"``) and a multiselect's as ids joined
by commas (``"12,14"``); the labels are only in the attribute's metadata. When a run starts (and in ``doctor``),
each attribute that a rule reads with ``option_label`` or ``option_labels`` is asked for once, and the rule is given
its options: a label renamed in Magento reaches a contact when its customer is written again (a full run sends
every changed payload).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.mapping_config import LABEL_TRANSFORMS, FieldRule, MappingSpec

__all__ = ["AttributeReader", "with_option_labels"]

_NO_OPTIONS_FIX = "{transform} is for select and multiselect attributes: drop it from this rule."

#: ``(entity, code)`` → Magento's metadata of the attribute, or None when it has none; ``entity`` is ``customer``
#: or ``customerAddress``.
AttributeReader = Callable[[str, str], Mapping[str, Any] | None]


def _reads_labels(rule: FieldRule) -> bool:
    return any(t.name in LABEL_TRANSFORMS for t in rule.transforms)


def with_option_labels(spec: MappingSpec, read: AttributeReader) -> MappingSpec:
    """``spec`` with each ``option_label`` and ``option_labels`` given its attribute's options (the same spec when
    no rule has one).

    Raises :class:`ConfigError` naming the rule when Magento has no such attribute, or one without options.
    """
    if not any(_reads_labels(rule) for rule in spec.rules):
        return spec
    tables: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
    rules = []
    for rule in spec.rules:
        if not _reads_labels(rule) or rule.path is None:
            rules.append(rule)
            continue
        entity = "customer" if rule.path.root == "customer" else "customerAddress"
        code = rule.path.keys[1]
        if (entity, code) not in tables:
            tables[(entity, code)] = _options(rule, entity, code, read(entity, code))
        labels = tables[(entity, code)]
        transforms = tuple(replace(t, labels=labels) if t.name in LABEL_TRANSFORMS else t for t in rule.transforms)
        rules.append(replace(rule, transforms=transforms))
    return replace(spec, rules=tuple(rules))


def _options(
    rule: FieldRule, entity: str, code: str, metadata: Mapping[str, Any] | None
) -> tuple[tuple[str, str], ...]:
    where = f'[mapping.fields] {rule.field} = "{rule.describe()}"'
    kind = "address" if entity == "customerAddress" else "customer"
    if metadata is None:
        raise ConfigError(
            f"{where}: Magento has no {kind} attribute {code!r}.",
            hint="Check the attribute code in Magento (Stores > Attributes > Customer or Customer Address).",
        )
    options = metadata.get("options")
    pairs = tuple(
        (str(option["value"]).strip(), label.strip() if isinstance(label := option.get("label"), str) else "")
        for option in (options if isinstance(options, list) else [])
        if isinstance(option, dict) and option.get("value") not in (None, "") and str(option["value"]).strip()
    )
    if not pairs:
        shown = metadata.get("frontend_input") or "an unknown kind of"
        raise ConfigError(
            f"{where}: Magento's {kind} attribute {code!r} is a {shown} attribute, with no options to read labels "
            "from.",
            hint=_NO_OPTIONS_FIX.format(transform=_label_transform(rule)),
        )
    return pairs


def _label_transform(rule: FieldRule) -> str:
    """The name of the rule's label transform (``option_label`` or ``option_labels``)."""
    return next((t.name for t in rule.transforms if t.name in LABEL_TRANSFORMS), LABEL_TRANSFORMS[0])
