"""Days of news for the digest's tests, through the real linker and store.

``demo_day``: the bundled sample (the demo's 24 November 2026), one source deliberately broken.
``generated_day``: 2,000 articles across every region (the e-mail's height on a heavy day).
Deterministic: every commune in turn, twenty headline shapes, one outlet per region plus a
national agency, commitments named in some articles and paralysed in a few (critical cards).
Articles go through the real linker and store.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from agenda.collect import FetchResult
from agenda.extract import Article, extract
from agenda.keywords import Keywords
from agenda.link import Linker
from agenda.sampleserver import write_sources
from agenda.sources import Source, load_sources
from agenda.store import Store

DAY = date(2026, 11, 24)
ROOT = Path(__file__).resolve().parent.parent


BROKEN_SOURCE_ERROR = "el servidor respondió con un error (500); se reintentó 3 veces"


def demo_day(linker: Linker, store: Store, folder: Path, now: datetime | None = None) -> None:
    """The sample's feeds for DAY, read from disk as the demo serves them (no network);
    ``now``: when the run stored them (default: the clock)."""
    filled = write_sources(
        ROOT / "sample" / "sources.yaml", "http://sample.invalid", folder / "sources.yaml"
    )
    sources = load_sources(filled)
    store.sync_sources(sources.sources)
    for source in sources.enabled:
        path = ROOT / "sample" / source.url.replace("http://sample.invalid/", "")
        if not path.exists():
            store.record_fetch(FetchResult(source, "error", error=BROKEN_SOURCE_ERROR), now=now)
            continue
        articles = extract(
            source, path.read_bytes(), "https://demo.example.cl/site/noticias.html"
        ).articles
        store.record_fetch(
            FetchResult(source, "ok"),
            articles,
            [linker.link(a.link_text(), source.region_code) for a in articles],
            now=now,
        )


SHAPES = [
    (
        "Vecinos de {c} reclaman por cortes de agua en varios sectores",
        "La junta de vecinos de {c} pidió explicaciones a la sanitaria por los cortes de agua.",
    ),
    (
        "Municipio de {c} inaugura nueva plaza con juegos inclusivos",
        "La Municipalidad de {c} entregó la plaza tras seis meses de obras.",
    ),
    (
        "Carabineros detiene a dos personas por robo con violencia en {c}",
        "El procedimiento se realizó en el centro de {c} durante la madrugada.",
    ),
    (
        "Cesfam de {c} suma horas de atención de especialistas",
        "El centro de salud familiar de {c} incorporó dos "
        "especialistas para reducir listas de espera.",
    ),
    (
        "Incendio forestal afecta a 40 hectáreas en {c}",
        "Brigadas de Conaf combaten un incendio forestal en un sector rural de {c}.",
    ),
    (
        "Liceo de {c} celebra su aniversario con muestra de talleres",
        "Estudiantes del liceo de {c} presentaron sus proyectos a la comunidad.",
    ),
    (
        "Feria costumbrista reúne a productores locales en {c}",
        "Más de cincuenta expositores participan en la feria de {c} este fin de semana.",
    ),
    (
        "Concejo de {c} aprueba presupuesto municipal para 2027",
        "El concejo municipal de {c} aprobó por mayoría el presupuesto del próximo año.",
    ),
    (
        "Comienza la pavimentación de caminos rurales en {c}",
        "Vialidad inició obras de pavimentación básica en tres caminos rurales de {c}.",
    ),
    (
        "Familias de {c} reciben subsidios de mejoramiento de viviendas",
        "El Serviu entregó subsidios de mejoramiento a familias de {c}.",
    ),
    (
        "Empresa anuncia 120 empleos para planta en {c}",
        "La nueva planta de {c} contratará trabajadores de la zona desde enero.",
    ),
    (
        "Bomberos de {c} reciben carro nuevo",
        "La compañía de bomberos de {c} sumó un carro bomba financiado por el gobierno regional.",
    ),
    (
        "Temporal deja cortes de luz en sectores de {c}",
        "Las lluvias y el viento provocaron caídas de árboles y cortes de luz en {c}.",
    ),
    (
        "Gobierno regional financia proyecto de agua potable rural en {c}",
        "El consejo regional aprobó fondos para el sistema de agua potable rural de {c}.",
    ),
    (
        "Club deportivo de {c} estrena cancha de pasto sintético",
        "La cancha del club de {c} fue financiada con fondos del IND.",
    ),
    (
        "Hospital que atiende a {c} amplía su servicio de urgencia",
        "La ampliación de la urgencia beneficiará a los vecinos de {c}.",
    ),
    (
        "Vecinos de {c} denuncian microbasurales en la ribera del río",
        "Los residentes de {c} pidieron a la municipalidad retirar los desechos.",
    ),
    (
        "Escuela rural de {c} recibe conexión a internet",
        "La escuela de {c} quedó conectada a internet de alta velocidad.",
    ),
    (
        "Programa de empleo capacita a 60 mujeres de {c}",
        "El programa de capacitación laboral certificó a sesenta mujeres de {c}.",
    ),
    (
        "Seremi fiscaliza a comercio ambulante en el centro de {c}",
        "La fiscalización en {c} terminó con mercadería decomisada.",
    ),
]


def generated_day(keywords: Keywords, linker: Linker, store: Store, articles: int = 2000) -> int:
    """Store ``articles`` articles of DAY in ``store``; return how many were stored."""
    rng = random.Random(13)
    communes = sorted(
        (p for p in keywords.places.values() if p.kind == "commune"), key=lambda p: p.code
    )
    sources = {
        code: Source(
            id=f"medio-{code}",
            name=f"Diario Regional {code}",
            url=f"https://r{code}.cl/feed",
            kind="rss",
            region_code=code,
        )
        for code in {c.region_code for c in communes}
    }
    agency = Source(
        id="agencia",
        name="Agencia Nacional",
        url="https://agencia.cl/feed",
        kind="rss",
        region_code="national",
    )
    store.sync_sources([*sources.values(), agency])
    commitments = sorted(keywords.commitments.values(), key=lambda c: c.id)
    by_source: dict[str, list[Article]] = {}
    for number in range(articles):
        commune = communes[number % len(communes)]
        title, summary = SHAPES[(number // len(communes) + number) % len(SHAPES)]
        title, summary = title.format(c=commune.name), summary.format(c=commune.name)
        if number % 40 == 0:  # a commitment in the news; one in three paralysed
            commitment = commitments[(number // 40) % len(commitments)]
            state = "siguen paralizadas" if number % 120 == 0 else "avanzan según lo previsto"
            title = f"Obras de {commitment.aliases[0]} {state} ({number})"
            summary = f"Las obras de {commitment.aliases[0]} {state}, informó la seremi."
        source = agency if number % 7 == 0 else sources[commune.region_code]
        when = datetime(2026, 11, 24, 11, tzinfo=UTC) + timedelta(seconds=rng.randrange(40_000))
        by_source.setdefault(source.id, []).append(
            Article(
                url=f"https://{source.id}.cl/2026/11/24/nota-{number}",
                title=title,
                summary=summary,
                source_id=source.id,
                outlet=source.name,
                source_region=source.region_code,
                published_at_utc=when,
            )
        )
    for source in [*sources.values(), agency]:
        mine = by_source.get(source.id, [])
        store.record_fetch(
            FetchResult(source, "ok"),
            mine,
            [linker.link(a.link_text(), source.region_code) for a in mine],
        )
    return sum(len(v) for v in by_source.values())
