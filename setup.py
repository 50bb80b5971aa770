from setuptools import find_packages, setup

from oms_connector import __version__

setup(
	name="oms_connector",
	version=__version__,
	description="Omnichannel order management for ERPNext: marketplaces, web stores, stores and phone orders",
	author="oms_connector developers",
	packages=find_packages(exclude=("tests", "tests.*", "benchmarks")),
	include_package_data=True,
	zip_safe=False,
	python_requires=">=3.10",
	install_requires=[
		"requests>=2.31",
		"python-dateutil>=2.8",
		"tenacity>=8.2,<9",  # retry with backoff and jitter for platform calls
		"openpyxl>=3.1",  # .xlsx order files
	],
	extras_require={"test": ["pytest>=7", "hypothesis>=6"]},
)
