"""What the workspace is: its files, languages, frameworks and map."""
