"""The physical world: floor plans, doors, stairs, light, sound and navigation fields."""

from hyosan.building.model import Building, DoorState, Room, Tile

__all__ = ["Building", "DoorState", "Room", "Tile"]
