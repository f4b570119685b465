"""The console's web layer: sign-in, pages, the live feed and the vendored assets."""
