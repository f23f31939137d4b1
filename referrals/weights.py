"""The weights of the matcher, in one place, each with the source that justifies it.

A part of a group's score is one of these weights, added when a preference of the
patient meets a trait of the group. Fits are positive, cautions negative; the
score starts at BASE and is clipped to [0, 1]. Sizes are deliberately coarse:
the sources say *that* something matters to fit and retention, not by how much.

Sources: VEDERHUS = Vederhus, Høie & Birkeland (2020), doi:10.1186/s13722-020-00191-w;
DEKKERS = Dekkers, Vos & Vanderplasschen (2020), doi:10.1186/s13011-020-00296-0;
GUIDE = "NA and Other Peer Support Groups for Drug Addiction", consumer guide (2023).
"""

from __future__ import annotations

BASE = 0.5

# Spirituality. GUIDE: people who object to a "higher power" may disengage; a group
# aligned with one's beliefs keeps people engaged. VEDERHUS: "perceived negative
# focus (e.g., powerlessness…)" is a code of "The model doesn't fit".
SPIRITUALITY_AVERSE_HIGHER_POWER = -0.20
SPIRITUALITY_AVERSE_SECULAR = 0.15
SPIRITUALITY_AVERSE_POWERLESSNESS = -0.10
SPIRITUALITY_WELCOME_HIGHER_POWER = 0.10

# Format. VEDERHUS: Per and John were not comfortable with the narrative tradition;
# Per found "dialogue and feedback" in a user organisation more beneficial.
# GUIDE: SMART uses structured tools (worksheets, CBT).
FORMAT_MATCH = 0.15
FORMAT_SHARING_WITHOUT_DIALOGUE = -0.10

# Sponsorship. GUIDE: having a sponsor seems to help long-term abstinence; SMART has
# no sponsors. VEDERHUS: negative experiences with sponsors; you may change sponsor.
SPONSOR_WANTED = 0.10
SPONSOR_NOT_WANTED = -0.05

# Social and leisure activities. VEDERHUS: John found an NGO's social and leisure
# activities more attractive than the meeting format.
SOCIAL_ACTIVITIES = 0.15

# Goal. VEDERHUS: the "all or nothing" attitude to relapse; total abstinence is NA's goal.
# SMART: participants choose their own goals (catalog source).
MODERATION_TOTAL_ABSTINENCE = -0.20
MODERATION_POSSIBLE = 0.15
ABSTINENCE_MATCH = 0.05

# Medication treatment. VEDERHUS: Inge needed opioid maintenance treatment to stay
# alive and found it hard to return to NA. Catalog: NA's position varies by group.
MEDICATION_WELCOME = 0.15
MEDICATION_VARIES = -0.10
MEDICATION_NOT_WELCOME = -0.25

# Psychiatric comorbidity. VEDERHUS: "double trouble"; participants advised that people
# with comorbidity may need something more than or different from NA. GUIDE: DRA
# addresses both; some feel unable to talk about psychiatric medication in NA.
DUAL_DIAGNOSIS_FOCUS = 0.25
PSYCHIATRIC_MEDICATION_DISCUSSABLE = 0.05
COMORBIDITY_NARRATIVE_SHARING = -0.05

# Trauma. VEDERHUS: step 5 with a sponsor harmed Celine and Kari; trauma support beside
# the fellowship is suggested (complementary, never ranked).
TRAUMA_STEP_WORK = -0.05

# Women only. The patient asked for it (WFS, catalog source).
WOMEN_ONLY_WANTED = 0.20

# Language and availability (catalog facts).
LANGUAGE_MATCH = 0.05
MEETS_IN_COUNTRY = 0.05
AVAILABILITY_UNKNOWN = -0.05
SUBSTANCE_SCOPE_UNKNOWN = -0.15

# Previous experience with the group (the patient's own).
PREVIOUS_POSITIVE = 0.10
PREVIOUS_NEGATIVE = -0.50

# The menu: how many options it shows before the diversity rule and dropped groups.
MENU_SIZE = 5
MINIMUM_OPTIONS = 3
