"""Who receives which edition: ``recipients.yaml``, validated once.

    recipients:
      - address: gabinete@example.cl
        edition: national
      - address: seremi.biobio@example.cl
        regions: ["08", "16"]          # the edition for these regions

Without a recipients file, the addresses in the mail settings get the national edition.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agenda.digest import NATIONAL, Edition, spanish_list
from agenda.errors import ConfigError, ConfigErrors
from agenda.keywords import Keywords
from agenda.sources import normalise_region
from agenda.yamlconf import LineDict, line_of, load_yaml


@dataclass(frozen=True)
class Recipient:
    address: str
    edition: Edition


def national_recipients(addresses: tuple[str, ...]) -> list[Recipient]:
    return [Recipient(address, NATIONAL) for address in addresses]


def load_recipients(path: Path, keywords: Keywords) -> list[Recipient]:
    data = load_yaml(path)
    name = str(path)
    if not isinstance(data, dict) or not isinstance(data.get("recipients"), list):
        raise ConfigError(name, line_of(data), "recipients", "the file must have a top-level 'recipients:' list")
    errors: list[ConfigError] = []
    recipients: list[Recipient] = []
    seen: set[str] = set()
    for entry in data["recipients"]:
        if not isinstance(entry, LineDict):
            errors.append(ConfigError(name, line_of(data, "recipients"), "recipients", "each recipient must be a mapping with address: and edition: or regions:"))
            continue
        address = entry.get("address")
        if not isinstance(address, str) or "@" not in address:
            errors.append(ConfigError(name, entry.line_of("address"), "address", f"'{address}' is not an e-mail address"))
            continue
        if address.lower() in seen:
            errors.append(ConfigError(name, entry.line_of("address"), "address", f"'{address}' is listed twice"))
            continue
        seen.add(address.lower())
        regions = entry.get("regions")
        edition_name = entry.get("edition")
        if regions is None:
            if edition_name not in (None, "national", "nacional"):
                errors.append(ConfigError(name, entry.line_of("edition"), "edition", f"unknown edition '{edition_name}' (use 'national' or a regions: list)"))
                continue
            recipients.append(Recipient(address, NATIONAL))
            continue
        if not isinstance(regions, list) or not regions:
            errors.append(ConfigError(name, entry.line_of("regions"), "regions", "must be a list of region codes like [\"08\", \"16\"]"))
            continue
        codes = []
        for value in regions:
            code = normalise_region(value)
            if code is None or code == "national":
                errors.append(ConfigError(name, entry.line_of("regions"), "regions", f"unknown region code '{value}'"))
                break
            codes.append(code)
        else:
            codes = sorted(set(codes))
            title = "Edición " + spanish_list([keywords.region_name(code) for code in codes])
            recipients.append(Recipient(address, Edition(title, tuple(codes))))
    if errors:
        raise ConfigErrors(errors)
    return recipients
