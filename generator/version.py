"""The generator's version; a build refuses raw data written by a different major version."""

GENERATOR_VERSION = "1.0.0"
