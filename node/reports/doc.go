// Package reports counts the deal flow from the replicated state, outside
// Apply: the funnel (how many leads reached each stage in a period, by
// site, sub-node, division, sector, country, deal type or month, with
// conversion rates and the median days between stages) and progress
// against HQ's yearly targets.
//
// A lead counts as having reached a stage when its history shows it
// entering the stage, the first time only: a resubmitted lead was pushed
// once, a reopened one approved once. Reaching a stage of the main line
// (SUBMITTED, APPROVED, CLAIMED, NEGOTIATING, SIGNED, LANDED) means having
// reached those before it, so a LANDED lead has been signed, claimed and
// approved. A MERGED lead counts nowhere: the lead it was merged into
// does. For the division, a step counts for the division that held the
// lead when it reached it (none before a claim); against a division's
// targets, its pushed and approved leads are those it came to claim.
//
// Every answer is computed from one consistent view of the state
// (pipeline.View) and says which applied index it reflects; "now" for the
// pace of targets is the time of the latest command applied, so two sites
// that applied the same entries give the same answer. An [Engine] keeps
// each lead's summary of its history by version, so a report reads again
// only the leads changed since the last.
package reports
