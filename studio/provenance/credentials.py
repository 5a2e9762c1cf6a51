"""Content credentials as read back from a file: plain values for pages and the verify page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

# c2pa reports an unknown signer as a failure although the signature and hashes hold; whether the
# signer is trusted is said apart (Credentials.trusted), so it is not a reason the file is invalid.
UNTRUSTED = "signingCredential.untrusted"


@dataclass(frozen=True)
class CredentialAction:
    action: str  # c2pa.opened, c2pa.edited, c2pa.placed, ...
    digital_source_type: str  # an IPTC URI, empty when the action does not say
    software_agent: str
    model: str
    provider: str
    description: str
    prompt: str


@dataclass(frozen=True)
class CredentialIngredient:
    title: str
    format: str
    relationship: str  # parentOf, componentOf or inputTo
    sha256: str
    start: float | None  # for a cut's window: where it sits in the cut, in seconds
    end: float | None


@dataclass(frozen=True)
class Credentials:
    claim_generator: str  # e.g. "Cutroom 0.1.0"
    signed_at: dt.datetime | None
    signer: str  # the signing certificate's common name
    issuer: str
    own_signer: bool  # signed by this instance's own certificate, not by a trusted authority
    valid: bool  # signature and hashes hold: the file is as it was signed
    trusted: bool  # the signer chains to this instance's trust anchor
    reasons: tuple[str, ...]  # why it is not valid
    actions: tuple[CredentialAction, ...]
    ingredients: tuple[CredentialIngredient, ...]

    @property
    def made_with_ai(self) -> bool:
        return any("trainedAlgorithmicMedia" in a.digital_source_type for a in self.actions)

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.model for a in self.actions if a.model))


def _agent(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(str(value[k]) for k in ("name", "version") if value.get(k))
    return str(value or "")


def _actions(manifest: dict[str, Any]) -> tuple[CredentialAction, ...]:
    found = []
    for assertion in manifest.get("assertions", []):
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in assertion.get("data", {}).get("actions", []):
            parameters = action.get("parameters") or {}
            found.append(
                CredentialAction(
                    action=str(action.get("action", "")),
                    digital_source_type=str(action.get("digitalSourceType", "")),
                    software_agent=_agent(action.get("softwareAgent")),
                    model=str(parameters.get("model", "")),
                    provider=str(parameters.get("provider", "")),
                    description=str(action.get("description", "")),
                    prompt=str(parameters.get("prompt", "")),
                )
            )
    return tuple(found)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _ingredients(manifest: dict[str, Any]) -> tuple[CredentialIngredient, ...]:
    found = []
    for ingredient in manifest.get("ingredients", []):
        ours = (ingredient.get("metadata") or {}).get("cutroom") or {}
        found.append(
            CredentialIngredient(
                title=str(ingredient.get("title", "")),
                format=str(ingredient.get("format", "")),
                relationship=str(ingredient.get("relationship", "")),
                sha256=str(ours.get("sha256", "")),
                start=_float(ours.get("start")),
                end=_float(ours.get("end")),
            )
        )
    return tuple(found)


def _signed_at(signature: dict[str, Any], actions: list[dict[str, Any]]) -> dt.datetime | None:
    """A timestamp authority's time when there is one, else the time the last action states."""
    stamps = [signature.get("time"), *(a.get("when") for a in reversed(actions))]
    for stamp in stamps:
        if stamp:
            try:
                return dt.datetime.fromisoformat(str(stamp))
            except ValueError:
                continue
    return None


def credentials_from_store(store: dict[str, Any], *, own_serial: str | None) -> Credentials:
    """Read c2pa's manifest store JSON (Reader.json()) into Credentials."""
    manifest = store["manifests"][store["active_manifest"]]
    signature = manifest.get("signature_info") or {}
    generator = (manifest.get("claim_generator_info") or [{}])[0]
    raw_actions = [
        action
        for assertion in manifest.get("assertions", [])
        if str(assertion.get("label", "")).startswith("c2pa.actions")
        for action in assertion.get("data", {}).get("actions", [])
    ]
    state = str(store.get("validation_state", "Invalid"))
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = [f for f in results.get("failure", []) if f.get("code") != UNTRUSTED]
    valid = state in ("Valid", "Trusted") and not failures
    reasons = [str(f.get("explanation") or f.get("code")) for f in failures]
    if not valid and not reasons:
        reasons = [f"The validation state is {state}."]
    serial = str(signature.get("cert_serial_number", ""))
    return Credentials(
        claim_generator=_agent(generator),
        signed_at=_signed_at(signature, raw_actions),
        signer=str(signature.get("common_name", "")),
        issuer=str(signature.get("issuer", "")),
        own_signer=own_serial is not None and serial == own_serial,
        valid=valid,
        trusted=valid and state == "Trusted",
        reasons=() if valid else tuple(reasons),
        actions=_actions(manifest),
        ingredients=_ingredients(manifest),
    )
