"""Air quality from real readings: station time series, a day's snapshot across stations and
the interpolated surface (IDW or ordinary kriging, chosen by leave-one-out cross-validation).

The readings are the AirData.kz daily means the ETL loads into the ``air_readings`` layer
(:mod:`etl.airdata`); nothing here is generated.
"""
