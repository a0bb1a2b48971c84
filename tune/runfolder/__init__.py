"""The run folder, without Ray: its layout, storage, Ray's saved state read as plain data, the trials
table, the summary, the run lock, the study's place and the settings saved as config.json.
"""
