"""Releasing models: turning a finished run into a published model and uploading it.

The library measures and returns data; this package is the one place that writes the manifest and the files a
record describes (:mod:`zoo.release.records`), runs a release's steps in order (:mod:`zoo.release.steps`, ``zoo
release NAME RUN_DIR``), renders the README's tables from the manifest (:mod:`zoo.release.tables`) and uploads to
the Hugging Face Hub (:mod:`zoo.release.hub`, ``zoo publish``). Only the command line imports it.
"""
