"""The prediction log: served rows written, batched and sent as PredictionsLogged."""
