/* FuzzMain has no API: it only defines the harnesses' <module>_main symbols. */
