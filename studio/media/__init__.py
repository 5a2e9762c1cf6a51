"""Media work with PyAV and Pillow: probing, posters, proxies, provider inputs, reference images.

Everything here works on local file paths and runs in the worker (or in tests); nothing here
touches the database or the storage API.
"""
