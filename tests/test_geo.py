"""Province lookup and locating an order, against the reference CSVs."""

import csv
import math
import unicodedata
from pathlib import Path

import pytest

from oms_connector.domain import geo
from oms_connector.domain.geo import (
	Location,
	find_province,
	haversine_km,
	locate,
	locate_address,
	normalize_place,
	province_by_code,
	province_from_address,
	provinces,
)
from oms_connector.domain.order import Address

DATA = Path(geo.__file__).resolve().parent.parent / "data"


def _rows(name):
	with open(DATA / name, encoding="utf-8", newline="") as handle:
		return list(csv.DictReader(handle))


def _strip_marks(text):
	text = text.replace("đ", "d").replace("Đ", "D")
	return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


PROVINCE_ROWS = _rows("vn_provinces.csv")
# (name as written, expected code) for the 34 new names and the 63 old ones.
NEW_NAMES = [(row["name_2025"], row["code_2025"]) for row in PROVINCE_ROWS]
OLD_NAMES = [(name, row["code_2025"]) for row in PROVINCE_ROWS for name in row["old_provinces"].split("|")]
ALL_NAMES = NEW_NAMES + OLD_NAMES


def test_reference_data_shape():
	assert len(NEW_NAMES) == 34
	assert len(OLD_NAMES) == 63
	assert len(provinces()) == 34
	assert [p.code for p in provinces()] == sorted(row["code_2025"] for row in PROVINCE_ROWS)
	hanoi = province_by_code("01")
	assert hanoi.name == "Thành phố Hà Nội" and hanoi.short_name == "Hà Nội"
	assert province_by_code("1") is hanoi  # a code that lost its zero still finds it
	assert find_province("Lào Cai").code == "15"  # codes stay strings
	assert find_province("Bình Dương").old_names == ("Bình Dương", "Bà Rịa - Vũng Tàu", "Hồ Chí Minh")


@pytest.mark.parametrize("name,code", ALL_NAMES, ids=[name for name, _ in ALL_NAMES])
def test_every_old_and_new_name_resolves(name, code):
	bare = name.removeprefix("Thành phố ")
	spellings = [
		name,
		bare,
		_strip_marks(bare),
		bare.upper(),
		_strip_marks(bare).lower(),
		f"Tỉnh {bare}",
		f"Thành phố {bare}",
		f"TP. {bare}",
		f"tinh {_strip_marks(bare)}",
		unicodedata.normalize("NFD", f"Tỉnh {bare}"),
		f"  {bare} ,",
	]
	for spelling in spellings:
		found = find_province(spelling)
		assert found is not None and found.code == code, spelling


def test_every_alias_in_the_file_resolves_to_its_code():
	rows = _rows("vn_province_aliases.csv")
	assert len(rows) == 229
	for row in rows:
		assert find_province(row["alias"]).code == row["code_2025"], row["alias"]


@pytest.mark.parametrize(
	"text,code",
	[
		("TP HCM", "79"),
		("TPHCM", "79"),
		("TP.HCM", "79"),
		("tp. Hồ Chí Minh", "79"),
		("Ho Chi Minh City", "79"),
		("Sài Gòn", "79"),
		("saigon", "79"),
		("HN", "01"),
		("Hanoi", "01"),
		("Thủ đô Hà Nội", "01"),
		("Tỉnh Bà Rịa – Vũng Tàu", "79"),
		("Bà Rịa-Vũng Tàu", "79"),
		("BR-VT", "79"),
		("Dak Lak province", "66"),
		("Ðắk Lắk", "66"),  # U+00D0, as GIS data writes it
		("Đắc Lắc", "66"),
		("Tỉnh Hoà Bình", "25"),
		("Thừa Thiên - Huế", "46"),
		("TT Huế", "46"),
		("Bắc Cạn", "19"),
		("Tỉnh Đăk Nông", "68"),
		("Can Tho city", "92"),
	],
)
def test_aliases(text, code):
	assert find_province(text).code == code


def test_nfd_input():
	assert find_province(unicodedata.normalize("NFD", "Thanh Hóa")).code == "38"
	assert find_province(unicodedata.normalize("NFD", "Thành phố Hồ Chí Minh")).code == "79"


def test_normalize_place_follows_the_readme_steps():
	assert normalize_place("TP. Hồ Chí Minh") == "ho chi minh"
	assert normalize_place("TP HCM") == "hcm"
	assert normalize_place("TPHCM") == "tphcm"
	assert normalize_place("Tỉnh Bà Rịa – Vũng Tàu") == "ba ria vung tau"
	assert normalize_place("Thủ đô Hà Nội") == "ha noi"
	assert normalize_place("Dak Lak province") == "dak lak"
	assert normalize_place("Tỉnh Hoà Bình") == "hoa binh"
	assert normalize_place("Thành phố Thủ đô Hà Nội") == "ha noi"  # prefixes drop repeatedly
	assert normalize_place("tinh") == "tinh"  # a prefix must be followed by a space
	assert normalize_place(None) == ""


@pytest.mark.parametrize("text", ["DN", "HP", "SG", "", "   ", "Quận 1", "Bangkok", "Springfield", None])
def test_unknown_or_ambiguous_province_is_none(text):
	assert find_province(text) is None


@pytest.mark.parametrize(
	"fields,code",
	[
		({"line1": "12 Lý Thường Kiệt, Phường Cửa Nam, Hoàn Kiếm, Hà Nội"}, "01"),
		({"line1": "12 Lý Thường Kiệt, Phường Cửa Nam, Hoàn Kiếm Hà Nội"}, "01"),
		({"line1": "12 Ly Thuong Kiet, Cua Nam, Hoan Kiem, Ha Noi, Viet Nam 100000"}, "01"),
		(
			{
				"line1": "45 Nguyễn Huệ",
				"ward": "Phường Bến Nghé",
				"district": "Quận 1",
				"province": "TP. Hồ Chí Minh",
			},
			"79",
		),
		({"line1": "45 Nguyễn Huệ, P. Bến Nghé, Q.1, TP.HCM"}, "79"),
		({"line1": "45 Nguyễn Huệ, Quận 1, tphcm"}, "79"),
		({"line1": "1 Trần Phú", "district": "TP Nha Trang", "province": "Khánh Hoà"}, "56"),
		({"line1": "Số 3 đường 30/4, Phường 9, Thành phố Vũng Tàu, Tỉnh Bà Rịa - Vũng Tàu"}, "79"),
		({"line1": "Thôn 2, Xã Ea Kao, Buôn Ma Thuột, Dak Lak province"}, "66"),
		({"line1": "Tổ 5, Phường Thạch Thang", "line2": "Đà Nẵng"}, "48"),
		({"line1": "Khu 3", "province": "Quảng Nam"}, "48"),  # old name, new province
		({"line1": "Khu 3", "province": "nonsense", "district": "Huyện Đông Anh, Hà Nội"}, "01"),
		({"line1": "Ấp 4, Xã Tân Phú, Đồng Tháp, (gọi trước khi giao)"}, "82"),  # a note after the province
	],
)
def test_free_text_addresses(fields, code):
	found = province_from_address(**fields)
	assert found is not None and found.code == code


@pytest.mark.parametrize(
	"fields",
	[
		{"line1": "12 Lý Thường Kiệt, Quận 1"},
		{"line1": "45 Main Street", "province": "DN"},  # ambiguous: Đà Nẵng, Đồng Nai or Đắk Nông
		{"line1": "Số 5, SG"},
		{"line1": "Hà Nội", "country": "Singapore"},  # another country
		{},
		{"line1": "Việt Nam"},
	],
)
def test_unplaceable_addresses(fields):
	assert province_from_address(**fields) is None
	assert locate(**fields) is None


def test_haversine_hanoi_to_hcmc():
	hanoi, hcmc = find_province("Hà Nội"), find_province("TP HCM")
	distance = haversine_km(hanoi.lat, hanoi.lon, hcmc.lat, hcmc.lon)
	assert 1100 <= distance <= 1200
	assert haversine_km(hanoi.lat, hanoi.lon, hanoi.lat, hanoi.lon) == 0
	assert math.isclose(distance, haversine_km(hcmc.lat, hcmc.lon, hanoi.lat, hanoi.lon))
	# Hoàn Kiếm (21.0285, 105.8542) is some 16 km from the Hà Nội territory centroid.
	assert 10 < haversine_km(21.0285, 105.8542, hanoi.lat, hanoi.lon) < 25


def test_locate_prefers_coordinates_then_province():
	by_coordinates = locate(line1="1 Tràng Tiền", province="Hà Nội", latitude=21.0245, longitude=105.8572)
	assert by_coordinates == Location(21.0245, 105.8572, "01", "coordinates")
	by_province = locate(line1="1 Tràng Tiền", province="Hà Nội")
	hanoi = province_by_code("01")
	assert by_province == Location(hanoi.lat, hanoi.lon, "01", "province")
	# Coordinates without a readable province still place the order.
	assert locate(line1="somewhere", latitude="10.77", longitude="106.70") == Location(
		10.77, 106.70, None, "coordinates"
	)
	# (0, 0) and garbage are "no coordinates".
	assert locate(province="Hà Nội", latitude=0, longitude=0).source == "province"
	assert locate(province="Hà Nội", latitude="abc", longitude=None).source == "province"
	assert locate(province="Hà Nội", latitude=float("nan"), longitude=105.0).source == "province"
	assert locate(latitude=123.0, longitude=105.0) is None


def test_locate_address_takes_the_order_model():
	address = Address(
		line1="12 Lý Thường Kiệt", ward="Cửa Nam", district="Hoàn Kiếm", province="Thành phố Hà Nội"
	)
	assert locate_address(address).province_code == "01"
	assert locate_address(Address(line1="x")) is None
	assert locate_address(None) is None
