"""The official list of comunas shipped with the package."""

from academy import comunas


def test_all_346_comunas_in_16_regions():
    every = comunas.all_comunas()
    assert len(every) == 346
    assert len({c.region_code for c in every.values()}) == 16
    assert all(len(cut) == 5 and cut.isdigit() for cut in every)


def test_known_comunas():
    assert comunas.get("13101").name == "Santiago"
    assert comunas.get("16101").region == "Ñuble"
    assert comunas.get("12202").name == "Antártica"
    assert comunas.get("99999") is None
    assert comunas.get(None) is None


def test_choices_run_north_to_south_and_cover_every_comuna():
    grouped = comunas.choices_by_region()
    regions = list(grouped)
    assert regions[0] == "Arica y Parinacota"
    assert regions[-1] == "Magallanes y de la Antártica Chilena"
    assert sum(len(items) for items in grouped.values()) == 346


def test_names_sort_as_in_spanish():
    santiago = [name for _cut, name in comunas.choices_by_region()["Metropolitana de Santiago"]]
    assert santiago.index("Ñuñoa") < santiago.index("Padre Hurtado")
    assert santiago.index("Ñuñoa") > santiago.index("Macul")
    assert santiago.index("Estación Central") < santiago.index("Huechuraba")
