"""Pure statistics shared by validation and monitoring: expectations, profiles, drift tests.

DataFrames and arrays in, pydantic results out; no I/O.
"""
