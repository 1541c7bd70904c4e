"""The directory: who handles what, where. Domain code only, no chat."""
