# Reads every table of an ioheme dataset folder back with haven (read_dta, read_sav, read_sas)
# and with the folder's dataset.R, and compares every value and every variable label with the
# CSV and dataset_dictionary.csv written by the same export. haven is the reader nobody here
# wrote. usage: Rscript dataset_formats.R DIR_STATA DIR_SPSS DIR_SAS DIR_R
suppressPackageStartupMessages(library(haven))
args <- commandArgs(trailingOnly = TRUE)
fail <- function(...) { cat("FAIL dataset_formats.R:", ..., "\n"); quit(status = 1) }
dict <- read.csv(file.path(args[1], "dataset_dictionary.csv"), colClasses = "character")
checked <- 0
compare <- function(what, csv, got, ty, label) {
  if (!identical(as.character(attr(got, "label")), label))
    fail(what, "label", shQuote(attr(got, "label")), "want", shQuote(label))
  na <- is.na(csv) | csv == ""
  csv[na] <- NA
  if (ty == "text") {
    g <- as.character(got); g[is.na(g)] <- ""
    ok <- ifelse(na, g == "", g == ifelse(na, "", csv))
  } else if (ty == "date") {
    ok <- ifelse(na, is.na(got), as.Date(got) == as.Date(csv))
  } else if (ty == "datetime") {
    want <- as.POSIXct(csv, tz = "UTC", tryFormats = c("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"))
    ok <- ifelse(na, is.na(got), abs(as.numeric(got) - as.numeric(want)) < 1e-6)
  } else {
    g <- as.numeric(zap_labels(got))
    ok <- ifelse(na, is.na(g), abs(g - as.numeric(csv)) <= 1e-9 * pmax(1, abs(as.numeric(csv))))
  }
  ok[is.na(ok)] <- FALSE
  if (!all(ok)) fail(what, "rows differ:", head(which(!ok)), "csv", head(csv[!ok]), "got", head(as.character(got[!ok])))
  checked <<- checked + length(ok)
}
readers <- list(list(args[1], "dta", read_dta), list(args[2], "sav", read_sav),
                list(args[3], "sas7bdat", read_sas))
for (r in readers) {
  for (tab in unique(dict$table)) {
    csv <- read.csv(file.path(r[[1]], paste0(tab, ".csv")), colClasses = "character",
                    na.strings = character(0), check.names = FALSE)
    got <- r[[3]](file.path(r[[1]], paste0(tab, ".", r[[2]])))
    cols <- dict[dict$table == tab, ]
    if (!identical(names(got), cols$column)) fail(r[[2]], tab, "columns", names(got))
    if (nrow(got) != nrow(csv)) fail(r[[2]], tab, "rows", nrow(got), "want", nrow(csv))
    for (i in seq_len(nrow(cols))) {
      g <- got[[cols$column[i]]]
      # a coded column in .dta and .sav: numbers 1..n labelled with the dictionary's levels
      if (cols$levels[i] != "" && r[[2]] != "sas7bdat") {
        lv <- strsplit(cols$levels[i], "|", fixed = TRUE)[[1]]
        if (!identical(unname(attr(g, "labels")), as.numeric(seq_along(lv))) ||
            !identical(names(attr(g, "labels")), lv))
          fail(r[[2]], tab, cols$column[i], "value labels", names(attr(g, "labels")))
        g <- structure(as.character(as_factor(g, levels = "labels")), label = attr(g, "label"))
      }
      # SPSS shows whole numbers (integers, codes, flags) without decimals: F8.0, not F8.2
      if (r[[2]] == "sav" && (cols$type[i] %in% c("integer", "boolean") || cols$levels[i] != "") &&
          !identical(attr(got[[cols$column[i]]], "format.spss"), "F8.0"))
        fail("sav", tab, cols$column[i], "format", attr(got[[cols$column[i]]], "format.spss"))
      compare(paste(r[[2]], tab, cols$column[i]), csv[[cols$column[i]]], g,
              cols$type[i], cols$description[i])
    }
    # yes/no value labels on the flags (a .sas7bdat keeps none: SAS keeps them in a separate
    # format catalog, which ioheme does not write)
    if (r[[2]] != "sas7bdat") for (c in cols$column[cols$type == "boolean"])
      if (!identical(unname(attr(got[[c]], "labels")), c(0, 1)) ||
          !identical(names(attr(got[[c]], "labels")), c("no", "yes")))
        fail(r[[2]], tab, c, "value labels")
  }
}
# the loader script for R
ds <- source(file.path(args[4], "dataset.R"))$value
for (tab in unique(dict$table)) {
  csv <- read.csv(file.path(args[4], paste0(tab, ".csv")), colClasses = "character",
                  na.strings = character(0), check.names = FALSE)
  cols <- dict[dict$table == tab, ]
  for (i in seq_len(nrow(cols))) {
    g <- ds[[tab]][[cols$column[i]]]
    if (cols$type[i] == "boolean") g <- structure(ifelse(is.na(g), NA, as.numeric(g == "yes")), label = attr(g, "label"))
    compare(paste("dataset.R", tab, cols$column[i]), csv[[cols$column[i]]], g, cols$type[i],
            cols$description[i])
  }
}
# coded choices are factors whose levels keep the protocol's order (time points in time, codes
# in the CRF's order), not the alphabet's; a value outside them would have failed above as NA
want_levels <- list(
  haemodynamics = list(timepoint = c("T0", "15min", "30min", "60min", "6h", "24h"),
                       status = c("done", "died", "not_done", "missing")),
  subjects = list(sex = c("male", "female"),
                  first_site = c("humerus", "tibia", "distal_tibia", "femur", "sternum", "other")),
  infusions = list(site = c("humerus", "tibia", "other"),
                   method = c("gravity", "pressure_bag", "pump", "push", "other")))
for (tab in names(want_levels)) for (col in names(want_levels[[tab]])) {
  g <- ds[[tab]][[col]]
  if (!is.factor(g) || !identical(levels(g), want_levels[[tab]][[col]]))
    fail("dataset.R", tab, col, "levels", if (is.factor(g)) levels(g) else class(g))
}
if (!is.character(ds$subjects$subject_id)) fail("dataset.R subjects subject_id is not text")
# and the loader's factors are the dictionary's levels, column by column
for (i in which(dict$levels != "")) {
  g <- ds[[dict$table[i]]][[dict$column[i]]]
  if (!identical(levels(g), strsplit(dict$levels[i], "|", fixed = TRUE)[[1]]))
    fail("dataset.R", dict$table[i], dict$column[i], "levels differ from the dictionary's")
}
cat("dataset_formats.R: ok,", checked, "values compared\n")
