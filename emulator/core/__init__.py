"""The floor both APIs stand on. Imports nothing else of ours."""
