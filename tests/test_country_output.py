"""Country results on disk: every file, readable and consistent; maps and animations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hyosan.country import kernel as kn
from hyosan.country.lattice import lattice_from_points
from hyosan.country.output import AnimationFrames, map_image, save_results
from hyosan.country.params import Cordon, load_config
from hyosan.country.places import Seed
from hyosan.country.sim import CountrySim
from hyosan.errors import UserInputError


@pytest.fixture(scope="module")
def run():
    lat = np.array([36.80, 36.85, 36.70])
    lon = np.array([127.10, 127.25, 127.00])
    lattice = lattice_from_points(lat, lon, np.array([60_000, 30_000, 20_000]), 1.0, names=["Alpha", "Beta", "Gamma"])
    cfg = load_config(None).model_copy(update={"cordon": [Cordon(around="Beta", radius=4000.0, from_day=1, leak=0.0)]})
    place = lattice.find_place("Alpha")
    sim = CountrySim(lattice, cfg, [Seed(int(place["row"]) * lattice.shape[1] + int(place["col"]), zombies=20)], seed=3)
    frames = AnimationFrames(lattice, days=6)
    results = sim.run(6, map_days=[0, 6], frame_every=1, on_frame=frames.add)
    return results, frames


def test_results_folder_has_every_file(run, tmp_path) -> None:
    results, _ = run
    folder = save_results(results, tmp_path / "out", title="towns")
    names = {p.name for p in folder.iterdir()}
    expected = {"summary.json", "run-info.json", "daily.parquet", "daily.csv", "regions.parquet", "regions.csv",
                "places.csv", "events.jsonl", "map-day0.png", "map-day6.png"}  # fmt: skip
    assert expected <= names
    assert not [n for n in names if n.endswith(".tmp")]
    daily = pd.read_parquet(folder / "daily.parquet")
    assert daily["day"].tolist() == list(range(7))
    people = daily[["S", "B", "Z", "H", "R"]].sum(axis=1) + daily["evacuated"]
    assert (people == results.summary["population"]).all()
    regions = pd.read_csv(folder / "regions.csv")
    national = regions.groupby("day")[["S", "B", "Z", "H", "R"]].sum()
    assert np.array_equal(national.to_numpy(), daily[["S", "B", "Z", "H", "R"]].to_numpy())
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    assert events[0]["kind"] == "seed" and isinstance(events[0]["row"], int)
    assert any(e["kind"] == "cordon_closed" for e in events)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["cordons"][0]["area"] == "4 km around Beta"
    assert "wall_seconds" not in summary and "wall_seconds" in json.loads((folder / "run-info.json").read_text())
    places = pd.read_csv(folder / "places.csv")
    assert set(places["name"]) == {"Alpha", "Beta", "Gamma"}


def test_same_seed_writes_the_same_summary(run, tmp_path) -> None:
    results, _ = run
    a = save_results(results, tmp_path / "a")
    b = save_results(results, tmp_path / "b")
    for name in ("summary.json", "daily.csv", "events.jsonl", "places.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_map_png_is_an_image(run, tmp_path) -> None:
    results, _ = run
    save_results(results, tmp_path / "m")
    import matplotlib.image as mpimg

    image = mpimg.imread(tmp_path / "m" / "map-day6.png")
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200


def test_map_colours_follow_the_states() -> None:
    counts = np.zeros((kn.N_SPECIES, 1, 3), dtype=np.int32)
    counts[kn.S, 0, 0] = 1000
    counts[kn.Z, 0, 1] = 1000
    rgb = map_image(counts, lattice=None)  # type: ignore[arg-type]
    assert rgb[0, 0, 2] > rgb[0, 0, 0]  # people: blue
    assert rgb[0, 1, 0] > rgb[0, 1, 2]  # zombies: red
    assert np.allclose(rgb[0, 2], rgb[0, 2].mean(), atol=0.05)  # nobody: pale


def test_animation_has_a_frame_per_day(run, tmp_path) -> None:
    _, frames = run
    path = tmp_path / "a.gif"
    frames.write(path)
    import imageio.v2 as imageio

    assert len(imageio.mimread(path)) == 7
    video = tmp_path / "a.mp4"
    frames.write(video)
    assert imageio.get_reader(video).count_frames() == 7
    with pytest.raises(UserInputError, match=r"gif or \.mp4"):
        frames.write(tmp_path / "a.avi")
