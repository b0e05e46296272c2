"""Reports render the analysis summary: terminal tables (rich), JSON, and later HTML and Markdown."""
