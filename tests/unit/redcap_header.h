/* The 18 column headers of a REDCap data dictionary, as one CSV line, for tests that build a
 * dictionary in memory. */
#ifndef IOHEME_TESTS_REDCAP_HEADER_H
#define IOHEME_TESTS_REDCAP_HEADER_H

static const char REDCAP_HEADER[] =
    "\"Variable / Field Name\",\"Form Name\",\"Section Header\",\"Field Type\",\"Field Label\","
    "\"Choices, Calculations, OR Slider Labels\",\"Field Note\","
    "\"Text Validation Type OR Show Slider Number\",\"Text Validation Min\","
    "\"Text Validation Max\",\"Identifier?\",\"Branching Logic (Show field only if...)\","
    "\"Required Field?\",\"Custom Alignment\",\"Question Number (surveys only)\","
    "\"Matrix Group Name\",\"Matrix Ranking?\",\"Field Annotation\"\n";

#endif
