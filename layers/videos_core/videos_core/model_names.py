"""OpenAI's dated snapshots of its video models (its published spec lists them): a snapshot is
accepted, validated, routed and priced as its base model, and kept and echoed as the client sent it."""

from __future__ import annotations

SNAPSHOTS = {
    "sora-2-2025-10-06": "sora-2",
    "sora-2-2025-12-08": "sora-2",
    "sora-2-pro-2025-10-06": "sora-2-pro",
}


def base_model(name: str) -> str:
    """The model a name stands for: a snapshot's base, else the name itself."""
    return SNAPSHOTS.get(name, name)
