"""Synthetic libraries for benchmarks: n valid missions shaped like the real ones.

python bench/synth.py DIR N     # writes DIR/missions/*.yaml, tags.yaml, entities.yaml
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

_WORDS = (
    "accompagnement territoire habitants atelier usages programmation tiers-lieu numérique "
    "stratégie gouvernance communauté modèle économique diagnostic concertation prototypage "
    "services médiation solidarité quartier commune intercommunalité fablab coopération "
    "préfiguration animation transition ruralité innovation design participatif élus "
    "partenaires acteurs locaux scénarios aménagement livrable synthèse mobilisation "
    "portage juridique friche réhabilitation équipement public culture jeunesse emploi"
).split()
_CLIENTS = [
    ("Ville de {}", "public"),
    ("Communauté de communes {}", "public"),
    ("Département {}", "public"),
    ("Bailleur {}", "private"),
    ("Association {}", "private"),
]
_PLACES = "Amiens Arras Lens Douai Cambrai Roubaix Tourcoing Calais Béthune Maubeuge".split()
_TAGS = [
    "tiers-lieu",
    "accompagnement",
    "ateliers",
    "co-conception",
    "co-construction",
    "stratégie territoriale",
    "transition numérique",
    "médiation",
    "fablab",
    "usages",
    "ruralité",
    "habitants",
    "solidarité",
    "innovation",
    "politiques publiques",
]


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(n)]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng, rng.randint(8, 18)) for _ in range(sentences))


def mission_yaml(rng: random.Random, index: int) -> str:
    """One synthetic mission file's text."""
    client, kind = rng.choice(_CLIENTS)
    place = rng.choice(_PLACES)
    start = rng.randint(2012, 2025)
    end = min(start + rng.randint(0, 3), 2026)
    tags = rng.sample(_TAGS, rng.randint(2, 5))
    deliverables = "\n".join(
        f"  - {_sentence(rng, rng.randint(4, 10))}" for _ in range(rng.randint(2, 5))
    )
    return (
        "# yaml-language-server: $schema=../mission.schema.json\n"
        f"title: {_sentence(rng, rng.randint(4, 9)).rstrip('.')} n°{index}\n"
        "client:\n"
        f"  name: {client.format(place)}\n"
        f"  kind: {kind}\n"
        f"  location: {place}\n"
        f"period: {start} - {end}\n"
        f"entity: {rng.choice(['pop-up', 'pop-cafe'])}\n"
        "context: |\n"
        f"  {_paragraph(rng, rng.randint(2, 4))}\n"
        "approach: |\n"
        f"  {_paragraph(rng, rng.randint(2, 4))}\n"
        "deliverables:\n"
        f"{deliverables}\n"
        f"tags: [{', '.join(tags)}]\n"
        f"budget: {rng.randint(1, 300) * 500} € HT\n"
    )


def make_library(root: Path, n: int, seed: int = 0) -> Path:
    """Write a library of `n` valid synthetic missions at `root` and return `root`."""
    rng = random.Random(seed)
    missions = root / "missions"
    if missions.exists():
        shutil.rmtree(missions)
    missions.mkdir(parents=True)
    for name in ("tags.yaml", "entities.yaml"):
        shutil.copy(DATA / name, root / name)
    for index in range(n):
        text = mission_yaml(rng, index)
        (missions / f"synth-{index:05d}.yaml").write_text(text, encoding="utf-8")
    return root


if __name__ == "__main__":
    target, count = Path(sys.argv[1]), int(sys.argv[2])
    make_library(target, count)
    print(f"wrote {count} missions to {target}")
