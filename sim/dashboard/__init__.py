"""The live Solara dashboard (``innosim dashboard``): Mesa's SolaraViz on a run of the district."""
