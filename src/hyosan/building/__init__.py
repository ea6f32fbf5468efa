"""The physical world: floor plans, doors, stairs, light, sound and navigation fields."""

from hyosan.building.floorplan import FloorSpec, RoomSpec, building_from_text
from hyosan.building.model import Building, DoorState, Room, Tile
from hyosan.building.navigation import (
    PERSON,
    ZOMBIE,
    DistanceField,
    Walker,
    distance_field,
    next_steps,
    step_toward,
    tile_costs,
)
from hyosan.building.senses import (
    PERSON_SIGHT,
    ZOMBIE_SIGHT,
    SightParams,
    SoundParams,
    can_see,
    line_of_sight,
    nearest_visible,
    sound_levels,
    visible_pairs,
)

__all__ = [
    "PERSON",
    "PERSON_SIGHT",
    "ZOMBIE",
    "ZOMBIE_SIGHT",
    "Building",
    "DistanceField",
    "DoorState",
    "FloorSpec",
    "Room",
    "RoomSpec",
    "SightParams",
    "SoundParams",
    "Tile",
    "Walker",
    "building_from_text",
    "can_see",
    "distance_field",
    "line_of_sight",
    "nearest_visible",
    "next_steps",
    "sound_levels",
    "step_toward",
    "tile_costs",
    "visible_pairs",
]
