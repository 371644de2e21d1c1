#!/usr/bin/env python3
"""Regenerate keywords/gazetteer.yaml from the DPA tables in keywords/dpa/.

    python scripts/build_gazetteer.py            # writes keywords/gazetteer.yaml

The generated file holds the official names and the systematic aliases (region forms, roman
numerals and ordinals, "Provincia de ...", "comuna de ...", "Municipalidad de ..."). Hand-written
aliases, well-known geographic names and disambiguation rules live in keywords/aliases.yaml and
keywords/disambiguation.yaml, which this script never touches.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DPA = ROOT / "keywords" / "dpa"
OUT = ROOT / "keywords" / "gazetteer.yaml"

# Historical numbering used by the press ("VIII Región", "la Quinta Región").
ROMAN = {
    "01": "I",
    "02": "II",
    "03": "III",
    "04": "IV",
    "05": "V",
    "06": "VI",
    "07": "VII",
    "08": "VIII",
    "09": "IX",
    "10": "X",
    "11": "XI",
    "12": "XII",
    "13": "XIII",
    "14": "XIV",
    "15": "XV",
    "16": "XVI",
}
ORDINALS = {
    "01": ["Primera"],
    "02": ["Segunda"],
    "03": ["Tercera"],
    "04": ["Cuarta"],
    "05": ["Quinta"],
    "06": ["Sexta"],
    "07": ["Séptima"],
    "08": ["Octava"],
    "09": ["Novena"],
    "10": ["Décima"],
    "11": ["Undécima", "Decimoprimera"],
    "12": ["Duodécima", "Decimosegunda"],
    "13": ["Decimotercera"],
    "14": ["Decimocuarta"],
    "15": ["Decimoquinta"],
    "16": ["Decimosexta"],
}
# Short names the press uses for each region; the bare name of a region that is also a commune
# (Antofagasta, Coquimbo, Valparaíso) is NOT listed: alone it means the city (rule 4).
REGION_SHORT = {
    "01": ["Tarapacá"],
    "02": [],
    "03": ["Atacama"],
    "04": [],
    "05": [],
    "06": [
        "Región de O'Higgins",
        "Región del Libertador Bernardo O'Higgins",
        "Región del Libertador",
    ],
    "07": ["Maule", "Región del Maule"],
    "08": ["Biobío", "Bío Bío", "Bío-Bío", "Región del Bío Bío"],
    "09": ["La Araucanía", "Araucanía"],
    "10": ["Los Lagos"],
    "11": ["Aysén", "Aisén", "Región de Aysén", "Región de Aisén"],
    "12": ["Magallanes", "Región de Magallanes"],
    "13": ["Región Metropolitana", "RM", "Metropolitana de Santiago"],
    "14": ["Los Ríos"],
    "15": ["Arica y Parinacota"],
    "16": ["Ñuble"],
}


# The name the digest shows for each region: the one people say.
REGION_DISPLAY = {
    "06": "O'Higgins",
    "11": "Aysén",
    "12": "Magallanes",
    "13": "Metropolitana",
    "15": "Arica y Parinacota",
}


def region_aliases(code: str, official: str, short: str) -> list[str]:
    aliases = [official, f"Región de {short}", f"Región del {short}"]
    aliases += REGION_SHORT[code]
    roman = ROMAN[code]
    aliases += [f"{roman} Región", f"Región {roman}"]
    aliases += [f"{ordinal} Región" for ordinal in ORDINALS[code]]
    return aliases


def province_aliases(name: str) -> list[str]:
    return [f"Provincia de {name}", f"Provincia del {name}", f"Provincia {name}"]


def commune_aliases(name: str) -> list[str]:
    forms = [name]
    if "Biobío" in name:
        forms.append(name.replace("Biobío", "Bío Bío"))
    aliases = list(forms)
    for form in forms:
        aliases += [
            f"comuna de {form}",
            f"Municipalidad de {form}",
            f"Ilustre Municipalidad de {form}",
        ]
    return aliases


def dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out


def read(name: str) -> list[dict[str, str]]:
    with open(DPA / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def with_official_names(kind: str, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The DPA rows with the official spelling where the table lost an accent.

    A correction whose DPA name no longer matches stops the build: the table was fixed or
    changed, and someone should look before the gazetteer changes.
    """
    fixes = {row["id"]: row for row in read("official_names.csv") if row["kind"] == kind}
    out = []
    for row in rows:
        fix = fixes.pop(row["id"], None)
        if fix is not None:
            if row["name"] != fix["dpa_name"]:
                raise SystemExit(
                    f"official_names.csv: {kind} {row['id']} is '{row['name']}' in the DPA table,"
                    f" not '{fix['dpa_name']}'"
                )
            row = {**row, "name": fix["official_name"]}
        out.append(row)
    if fixes:
        raise SystemExit(f"official_names.csv: unknown {kind} ids {', '.join(sorted(fixes))}")
    return out


def build() -> dict:
    regions = read("regions.csv")
    provinces = with_official_names("province", read("provinces.csv"))
    communes = with_official_names("commune", read("communes.csv"))
    province_region = {p["id"]: p["region_id"] for p in provinces}
    return {
        "regions": [
            {
                "code": r["id"],
                "name": REGION_DISPLAY.get(r["id"], r["short_name"]),
                "official_name": r["name"],
                "aliases": dedupe(region_aliases(r["id"], r["name"], r["short_name"])),
            }
            for r in regions
        ],
        "provinces": [
            {
                "code": p["id"],
                "name": p["name"],
                "region": p["region_id"],
                "aliases": dedupe(province_aliases(p["name"])),
            }
            for p in provinces
        ],
        "communes": [
            {
                "code": c["id"],
                "name": c["name"],
                "province": c["province_id"],
                "region": province_region[c["province_id"]],
                "aliases": dedupe(commune_aliases(c["name"])),
            }
            for c in communes
        ],
    }


HEADER = """\
# GENERATED by scripts/build_gazetteer.py from keywords/dpa/*.csv (official spellings from
# keywords/dpa/official_names.csv): do not edit by hand.
# Add aliases in keywords/aliases.yaml and rules in keywords/disambiguation.yaml instead.
"""


def main() -> int:
    data = build()
    text = HEADER + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    OUT.write_text(text, encoding="utf-8")
    print(
        f"wrote {OUT.relative_to(ROOT)}: {len(data['regions'])} regions, "
        f"{len(data['provinces'])} provinces, {len(data['communes'])} communes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
