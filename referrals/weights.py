"""The weights of the matcher, in one place, each with the source that justifies it.

A group's score is the visible sum of its parts: BASE, the same for every group, plus
one weight for each preference of the patient that meets a fact of the group. Fits
are positive, cautions negative or zero, advice is zero. Nothing is clipped, so the
score shown is exactly the sum of the parts listed beside it. Sizes are deliberately
coarse: the sources say *that* something matters to fit and retention, not by how
much; what they do say is ordered: something that harmed people (step 5 for trauma
survivors, an unwelcome medication) weighs more than a convenience (a language
match, a meeting nearby).

**Unrecorded facts.** When a trait decides fit for *this* patient and the catalog
does not record the group's value, the part is a caution ("not verified: …") worth
the least the group could score on that trait had the value been recorded (the
*pessimistic* value, never below the worst documented outcome, never above it).
So an unknown never makes a group look better than a group documented to be
unfavourable, and learning a fact can only keep a group's score or raise it:
a counsellor can defend the order of the menu from the recorded facts alone.
Ties go to the group with fewer unverified parts.

Sources: VEDERHUS = Vederhus, Høie & Birkeland (2020), doi:10.1186/s13722-020-00191-w;
DEKKERS = Dekkers, Vos & Vanderplasschen (2020), doi:10.1186/s13011-020-00296-0;
HOUGHTON = Houghton et al. (2024), doi:10.1177/29768357241276320;
GUIDE = "NA and Other Peer Support Groups for Drug Addiction", consumer guide (2023).
"""

from __future__ import annotations

# Every group starts here; shown as the first part of every score.
BASE = 0.5

# Spirituality. GUIDE: people who object to a "higher power" may disengage; a group
# aligned with one's beliefs keeps people engaged. VEDERHUS: "perceived negative
# focus (e.g., powerlessness…)" is a code of "The model doesn't fit"; former members
# still valued the steps and a higher power.
SPIRITUALITY_AVERSE_HIGHER_POWER = -0.20
SPIRITUALITY_AVERSE_SOME_GROUPS = -0.10
SPIRITUALITY_AVERSE_SECULAR = 0.15
SPIRITUALITY_AVERSE_POWERLESSNESS = -0.10
SPIRITUALITY_WELCOME_HIGHER_POWER = 0.10

# The label. GUIDE: the first objection to NA it names is "labeling oneself an
# addict". VEDERHUS: "Everything hinged on addiction" is a code of the model not fitting.
LABEL_AVERSE = -0.15
LABEL_AVOIDED = 0.10

# Format. VEDERHUS: Per and John were not comfortable with the narrative tradition;
# Per found "dialogue and feedback" in a user organisation more beneficial.
# DEKKERS: mutual understanding through sharing enabled connectedness.
# GUIDE: SMART uses structured tools (worksheets, CBT).
FORMAT_MATCH = 0.15
FORMAT_MISSING = -0.05
FORMAT_NO_DIALOGUE = -0.10

# Sponsorship. GUIDE: having a sponsor seems to help long-term abstinence; SMART has
# no sponsors. VEDERHUS: negative experiences with sponsors; you may change sponsor.
SPONSOR_WANTED = 0.10
SPONSOR_OPTIONAL = 0.05
SPONSOR_MISSING = -0.10
SPONSOR_NOT_WANTED = -0.05
SPONSOR_NONE_AS_WISHED = 0.05

# Social life. VEDERHUS: John found an NGO's social and leisure activities more
# attractive than the meeting format; for some, the fellowship became a cage.
# DEKKERS: connectedness (a new network, a safety net) is NA's core element.
# HOUGHTON: the pull of a using network.
SOCIAL_ACTIVITIES = 0.15
PEER_NETWORK = 0.05
LIFE_BEYOND_THE_GROUP = -0.05

# Goal. VEDERHUS: the "all or nothing" attitude to relapse; total abstinence is NA's
# goal and Ann had to leave NA to drink. SMART: participants choose their own goals.
MODERATION_TOTAL_ABSTINENCE = -0.20
MODERATION_POSSIBLE = 0.15
ABSTINENCE_MATCH = 0.05
UNDECIDED_ROOM_TO_CHOOSE = 0.10
UNDECIDED_TOTAL_ABSTINENCE = -0.05

# A recent relapse. VEDERHUS: clean-time counting restarting at zero and an informal
# hierarchy of abstinence left people feeling like second-rate members.
RELAPSE_CLEAN_TIME = -0.10

# Medication treatment. VEDERHUS: Inge needed opioid maintenance treatment to stay
# alive and found it hard to return to NA. Catalog: NA's position varies by group.
MEDICATION_WELCOME = 0.15
MEDICATION_VARIES = -0.10
MEDICATION_NOT_WELCOME = -0.25

# Psychiatric comorbidity. VEDERHUS: "double trouble"; participants advised that people
# with comorbidity may need something more than or different from NA. GUIDE: DRA
# addresses both; some feel unable to talk about psychiatric medication in NA.
DUAL_DIAGNOSIS_FOCUS = 0.25
PSYCHIATRIC_MEDICATION_ACCEPTED = 0.05
PSYCHIATRIC_MEDICATION_NOT_ACCEPTED = -0.20
PSYCHIATRIC_MEDICATION_DISCUSSABLE = 0.05
PSYCHIATRIC_MEDICATION_HARD_TO_RAISE = -0.05
PSYCHIATRIC_MEDICATION_NOT_DISCUSSABLE = -0.10
COMORBIDITY_NARRATIVE_SHARING = -0.05

# Trauma. VEDERHUS: step 5 with a sponsor harmed Celine and Kari (one was told to
# forgive her molester): harm, so it weighs as much as an unwelcome medication policy.
# Trauma support beside the fellowship is suggested (complementary, never ranked).
TRAUMA_STEP_WORK = -0.20
TRAUMA_STEP_WORK_OPTIONAL = -0.05

# Women only. The patient asked for it (WFS, catalog source).
WOMEN_ONLY_WANTED = 0.20
WOMEN_ONLY_SOME_MEETINGS = 0.10
WOMEN_ONLY_MIXED = -0.05

# Reasons the patient left a group (VEDERHUS Table 3 codes): a group sharing the
# trait behind the reason is likely to repeat it.
SHARES_WHAT_THE_PATIENT_LEFT = -0.10

# Scope, language and availability (catalog facts).
SCOPE_COVERED = 0.05
# GUIDE: groups "that focus on specific substances" (CA, CMA, MA); members share the
# patient's substance, which a general fellowship cannot promise.
SUBSTANCE_FOCUS = 0.10
SCOPE_UNVERIFIED = -0.15
LANGUAGE_MATCH = 0.05
LANGUAGE_MISMATCH = -0.20
MEETS_IN_COUNTRY = 0.05
AVAILABILITY_UNKNOWN = -0.05
ONLINE_MEETINGS = 0.05

# Previous experience with the group (the patient's own).
PREVIOUS_POSITIVE = 0.10
PREVIOUS_MIXED = -0.10
PREVIOUS_NEGATIVE = -0.50

# The menu: how many options it shows before the diversity rule and dropped groups.
MENU_SIZE = 5
MINIMUM_OPTIONS = 3
