"""Where an order goes: Vietnamese province lookup and a point to measure distances from.

Reference data is the 34 provinces in force from 1 July 2025 plus every old (63) and new
name as aliases (see data/vn_provinces.csv, data/vn_province_aliases.csv). A customer may
write either the old or the new name, with or without diacritics and prefixes; all of them
land on the new province and its centroid. Centroids are good for province-level distance
only, which is all routing needs to rank warehouses.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PROVINCES_CSV = DATA_DIR / "vn_provinces.csv"
ALIASES_CSV = DATA_DIR / "vn_province_aliases.csv"

EARTH_RADIUS_KM = 6371.0088  # mean radius, the one the centroids were computed with

# Step 4 of the README normalisation; each must be followed by a space to count as a prefix.
ADMIN_PREFIXES = ("thanh pho ", "tp ", "tinh ", "thu do ")
ENGLISH_SUFFIXES = (" province", " city")
# Trailing words in a free-text address that say nothing about the province.
COUNTRY_WORDS = ("viet nam", "vietnam", "vn", "vnm")

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_COMPONENT_SEPARATORS = re.compile(r"[,;\n|]+")


@dataclass(frozen=True)
class Province:
	code: str  # 2-digit GSO code of the 2025 province, kept as a string ("01")
	name: str  # official name with diacritics, e.g. "Thành phố Hà Nội", "Đắk Lắk"
	name_ascii: str
	lat: float  # centroid of the province's land territory
	lon: float
	old_names: tuple[str, ...]  # pre-2025 provinces merged into it
	old_codes: tuple[str, ...] = ()
	admin_center: str = ""

	@property
	def short_name(self) -> str:
		"""'Hà Nội' rather than 'Thành phố Hà Nội', for messages."""
		return self.name.removeprefix("Thành phố ")


@dataclass(frozen=True)
class Location:
	"""A delivery (or warehouse) point. source: 'coordinates' (given by the order) or 'province' (centroid)."""

	lat: float
	lon: float
	province_code: str | None
	source: str


@lru_cache(maxsize=1)
def _provinces() -> dict[str, Province]:
	with open(PROVINCES_CSV, encoding="utf-8", newline="") as handle:
		rows = list(csv.DictReader(handle))
	provinces = {}
	for row in rows:
		code = row["code_2025"].strip()  # string: '01' must stay '01'
		provinces[code] = Province(
			code=code,
			name=row["name_2025"],
			name_ascii=row["name_2025_ascii"],
			lat=float(row["lat"]),
			lon=float(row["lon"]),
			old_names=tuple(row["old_provinces"].split("|")),
			old_codes=tuple(row["old_codes"].split("|")),
			admin_center=row["admin_center"],
		)
	return provinces


@lru_cache(maxsize=1)
def _aliases() -> tuple[dict[str, str], int]:
	"""Normalised alias -> code, and the longest alias in words (for matching the end of free text)."""
	provinces = _provinces()
	with open(ALIASES_CSV, encoding="utf-8", newline="") as handle:
		rows = list(csv.DictReader(handle))
	aliases: dict[str, str] = {}
	for row in rows:
		code = row["code_2025"].strip()
		if code not in provinces:
			raise ValueError(f"alias {row['alias']!r} points at unknown province code {code!r}")
		# Keep the raw alias too: a caller-visible guarantee that every file row resolves.
		for key in {row["alias"], _strip_affixes(_fold(row["alias"]))}:
			if key and aliases.setdefault(key, code) != code:
				raise ValueError(f"alias {key!r} maps to two provinces")
	longest = max(len(key.split()) for key in aliases)
	return aliases, longest


def provinces() -> list[Province]:
	"""All 34 provinces, ordered by code."""
	return [province for _, province in sorted(_provinces().items())]


def province_by_code(code: str | None) -> Province | None:
	if code is None:
		return None
	return _provinces().get(str(code).strip().zfill(2))


def _fold(text: str | None) -> str:
	"""Steps 1-3: NFC + lower case, strip diacritics (đ/ð -> d), runs of non [a-z0-9] -> one space."""
	text = unicodedata.normalize("NFC", text or "").lower()
	text = text.replace("đ", "d").replace("ð", "d")
	decomposed = unicodedata.normalize("NFD", text)
	text = "".join(char for char in decomposed if not unicodedata.combining(char))
	return _NON_ALNUM.sub(" ", text).strip()


def _strip_affixes(folded: str) -> str:
	"""Steps 4-5: drop leading administrative prefixes (repeatedly) and one English suffix."""
	stripped = True
	while stripped:
		stripped = False
		for prefix in ADMIN_PREFIXES:
			if folded.startswith(prefix):
				folded = folded[len(prefix) :].lstrip()
				stripped = True
	for suffix in ENGLISH_SUFFIXES:
		if folded.endswith(suffix):
			folded = folded[: -len(suffix)].rstrip()
			break
	return folded


def normalize_place(text: str | None) -> str:
	"""The lookup key for a province field (README steps 1-5): 'TP. Hồ Chí Minh' -> 'ho chi minh'."""
	return _strip_affixes(_fold(text))


def _lookup(key: str) -> Province | None:
	"""Step 6: the key as is, then with its spaces removed ('ha noi' -> 'hanoi')."""
	if not key:
		return None
	aliases = _aliases()[0]
	code = aliases.get(key) or aliases.get(key.replace(" ", ""))
	return _provinces()[code] if code else None


def find_province(text: str | None) -> Province | None:
	"""The province a province field names, old or new name, any spelling the alias file knows."""
	return _lookup(normalize_place(text))


def _is_vietnam(country: str | None) -> bool:
	folded = _fold(country)
	return not folded or folded in COUNTRY_WORDS


def _drop_trailing_noise(words: list[str]) -> list[str]:
	"""Drop a country name and postal code from the end: '..., Hà Nội 100000, Việt Nam'."""
	changed = True
	while words and changed:
		changed = False
		if words[-1].isdigit() and len(words[-1]) >= 5:  # VN postal codes have 5-6 digits
			words = words[:-1]
			changed = True
		for country in COUNTRY_WORDS:
			country_words = country.split()
			if len(words) > len(country_words) and words[-len(country_words) :] == country_words:
				words = words[: -len(country_words)]
				changed = True
				break
	return words


def province_from_address(
	line1: str = "",
	line2: str = "",
	ward: str = "",
	district: str = "",
	province: str = "",
	country: str = "",
) -> Province | None:
	"""The province of an address: the province field if it names one, else read from the free text.

	Free text is read from its end, where Vietnamese addresses put the province: first the last
	comma-separated component as a province field, then the longest alias that ends the whole
	normalised text ('... hoan kiem ha noi'), then any other component that is exactly a
	province name. Abbreviations the alias file leaves out as ambiguous (DN, HP, SG) never match.
	An address in another country gives None.
	"""
	if not _is_vietnam(country):
		return None
	found = find_province(province)
	if found:
		return found

	text = ", ".join(part for part in (line1, line2, ward, district, province) if part and part.strip())
	components = []
	for raw in _COMPONENT_SEPARATORS.split(text):
		words = _fold(raw).split()
		if words:
			components.append(words)
	# Country / postal-code components at the end carry no province.
	while components:
		components[-1] = _drop_trailing_noise(components[-1])
		if components[-1] and " ".join(components[-1]) not in COUNTRY_WORDS:
			break
		components.pop()
	if not components:
		return None

	found = _lookup(_strip_affixes(" ".join(components[-1])))
	if found:
		return found

	words = _strip_affixes(" ".join(word for component in components for word in component)).split()
	aliases, longest = _aliases()
	for size in range(min(longest, len(words)), 0, -1):
		code = aliases.get(" ".join(words[-size:]))
		if code:
			return _provinces()[code]

	for component in reversed(components[:-1]):
		found = _lookup(_strip_affixes(" ".join(component)))
		if found:
			return found
	return None


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
	"""Great-circle distance in km."""
	phi1 = math.radians(lat1)
	phi2 = math.radians(lat2)
	half_dphi = (phi2 - phi1) / 2
	half_dlambda = math.radians(lon2 - lon1) / 2
	a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
	return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def valid_coordinates(latitude, longitude) -> bool:
	"""Real-looking coordinates; (0, 0) is what platforms send when they have none."""
	try:
		lat = float(latitude)
		lon = float(longitude)
	except (TypeError, ValueError):
		return False
	if not (math.isfinite(lat) and math.isfinite(lon)):
		return False
	if lat == 0 and lon == 0:
		return False
	return -90 <= lat <= 90 and -180 <= lon <= 180


def locate(
	line1: str = "",
	line2: str = "",
	ward: str = "",
	district: str = "",
	province: str = "",
	country: str = "",
	latitude: float | None = None,
	longitude: float | None = None,
) -> Location | None:
	"""The point to route to: the order's own coordinates if valid, else the province centroid, else None."""
	found = province_from_address(line1, line2, ward, district, province, country)
	code = found.code if found else None
	if valid_coordinates(latitude, longitude):
		return Location(float(latitude), float(longitude), code, "coordinates")
	if found:
		return Location(found.lat, found.lon, code, "province")
	return None


def locate_address(address) -> Location | None:
	"""locate() for anything shaped like domain.order.Address (None -> None)."""
	if address is None:
		return None
	return locate(
		line1=getattr(address, "line1", "") or "",
		line2=getattr(address, "line2", "") or "",
		ward=getattr(address, "ward", "") or "",
		district=getattr(address, "district", "") or "",
		province=getattr(address, "province", "") or "",
		country=getattr(address, "country", "") or "",
		latitude=getattr(address, "latitude", None),
		longitude=getattr(address, "longitude", None),
	)
