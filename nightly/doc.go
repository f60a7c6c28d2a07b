// Package nightly runs BibStat's nightly pipeline: on a cron schedule in a
// time zone (Schedule, Next), the stages harvest → upload inbox →
// warehouse → report site, each recorded in the run log.
package nightly
