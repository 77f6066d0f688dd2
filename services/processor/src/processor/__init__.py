"""The processor service: market streams -> bars -> strategy -> trade signals."""
