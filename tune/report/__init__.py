"""What the inspection commands show besides the run folder: tables, figures, the oracle comparison."""
