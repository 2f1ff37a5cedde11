/*
 * The name tables the synthetic company is drawn from: people's names (many outside ASCII, on
 * purpose), departments with their titles, teams, divisions, locations and subcompanies.
 */
#include "sbx_int.h"

#include <string.h>

#define F SBX_GENDER_FEMALE
#define M SBX_GENDER_MALE
#define X SBX_GENDER_DIVERSE

const struct sbx_pool_name sbx_pool_first[] = {
    {"Ava", "ava", F},         {"Liam", "liam", M},     {"Zoë", "zoe", F},
    {"Łukasz", "lukasz", M},   {"Ахмед", "akhmed", M},  {"José", "jose", M},
    {"Søren", "soren", M},     {"Chloé", "chloe", F},   {"Björn", "bjorn", M},
    {"Anaïs", "anais", F},     {"Jürgen", "jurgen", M}, {"美咲", "misaki", F},
    {"Siobhán", "siobhan", F}, {"Noah", "noah", M},     {"Emma", "emma", F},
    {"Olivia", "olivia", F},   {"Mateo", "mateo", M},   {"Priya", "priya", F},
    {"Arjun", "arjun", M},     {"Fatima", "fatima", F}, {"Omar", "omar", M},
    {"Sofia", "sofia", F},     {"Lucas", "lucas", M},   {"Mia", "mia", F},
    {"Ethan", "ethan", M},     {"Hannah", "hannah", F}, {"Yuki", "yuki", X},
    {"Sam", "sam", X},         {"Alex", "alex", X},     {"Grace", "grace", F},
    {"Daniel", "daniel", M},   {"Leila", "leila", F},   {"Tomás", "tomas", M},
    {"Ingrid", "ingrid", F},   {"Kwame", "kwame", M},   {"Amara", "amara", F},
    {"Wei", "wei", M},         {"Hana", "hana", F},     {"Mohammed", "mohammed", M},
    {"Elena", "elena", F},
};
const size_t sbx_pool_nfirst = sizeof(sbx_pool_first) / sizeof(sbx_pool_first[0]);

const struct sbx_pool_name sbx_pool_last[] = {
    {"Nguyễn", "nguyen", X},     {"李", "li", X},
    {"Ångström", "angstrom", X}, {"Müller", "muller", X},
    {"Kowalski", "kowalski", X}, {"Smith", "smith", X},
    {"García", "garcia", X},     {"O'Brien", "obrien", X},
    {"Schmidt", "schmidt", X},   {"Rossi", "rossi", X},
    {"Dubois", "dubois", X},     {"Иванова", "ivanova", X},
    {"Yılmaz", "yilmaz", X},     {"Kim", "kim", X},
    {"Patel", "patel", X},       {"Johnson", "johnson", X},
    {"Brown", "brown", X},       {"Silva", "silva", X},
    {"Santos", "santos", X},     {"Novák", "novak", X},
    {"Weiß", "weiss", X},        {"Jensen", "jensen", X},
    {"Okafor", "okafor", X},     {"Tanaka", "tanaka", X},
    {"Cohen", "cohen", X},       {"Lefèvre", "lefevre", X},
    {"Haddad", "haddad", X},     {"Nowak", "nowak", X},
    {"Fischer", "fischer", X},   {"Martin", "martin", X},
    {"Costa", "costa", X},       {"Andersson", "andersson", X},
    {"Chen", "chen", X},         {"Singh", "singh", X},
    {"Walker", "walker", X},     {"de la Cruz", "delacruz", X},
    {"Park", "park", X},         {"Hoffmann", "hoffmann", X},
    {"Bergmann", "bergmann", X}, {"van den Berg", "vandenberg", X},
};
const size_t sbx_pool_nlast = sizeof(sbx_pool_last) / sizeof(sbx_pool_last[0]);

#undef F
#undef M
#undef X

const char *const sbx_pool_nick[] = {"Lu",  "Jo",   "Max",   "Sunny", "Kiki", "Bea",   "Ed",
                                     "Ali", "Dani", "Teddy", "Mo",    "Lexi", "Benji", "Zee"};
const size_t sbx_pool_nnick = sizeof(sbx_pool_nick) / sizeof(sbx_pool_nick[0]);

const char *const sbx_pool_division[] = {"Research & Development", "Go-To-Market",
                                         "General & Administrative"};
const size_t sbx_pool_ndivision = sizeof(sbx_pool_division) / sizeof(sbx_pool_division[0]);

const struct sbx_pool_department sbx_pool_department[] = {
    {"Engineering",
     0,
     "Engineering Manager",
     {"Software Engineer", "Senior Software Engineer", "Staff Engineer", "QA Engineer"}},
    {"Product",
     0,
     "Group Product Manager",
     {"Product Manager", "Product Designer", "UX Researcher", NULL}},
    {"Sales",
     1,
     "Sales Manager",
     {"Account Executive", "Sales Development Representative", "Sales Engineer", NULL}},
    {"Marketing",
     1,
     "Marketing Lead",
     {"Marketing Manager", "Content Strategist", "Growth Analyst", NULL}},
    {"Customer Support",
     1,
     "Support Team Lead",
     {"Support Specialist", "Customer Success Manager", NULL, NULL}},
    {"Finance", 2, "Finance Manager", {"Accountant", "Financial Analyst", "Controller", NULL}},
    {"People & Culture",
     2,
     "People Lead",
     {"HR Business Partner", "Recruiter", "People Ops Specialist", NULL}},
    {"Operations",
     2,
     "Operations Manager",
     {"Office Manager", "IT Administrator", "Operations Analyst", NULL}},
};
const size_t sbx_pool_ndepartment = sizeof(sbx_pool_department) / sizeof(sbx_pool_department[0]);

const struct sbx_pool_team sbx_pool_team[] = {
    {"Platform", 0},   {"Payments", 0},    {"Mobile", 0}, {"Discovery", 1}, {"Design System", 1},
    {"EMEA Sales", 2}, {"LATAM Sales", 2}, {"Brand", 3},  {"Growth", 3},    {"Tier 1", 4},
    {"Tier 2", 4},     {"Accounting", 5},  {"FP&A", 5},   {"Talent", 6},    {"People Ops", 6},
    {"IT", 7},         {"Workplace", 7},
};
const size_t sbx_pool_nteam = sizeof(sbx_pool_team) / sizeof(sbx_pool_team[0]);

const char *const sbx_pool_subcompany[] = {"Sandbox GmbH", "Sandbox Inc.", "Sandbox Ltda.",
                                           "Sandbox AG"};
const size_t sbx_pool_nsubcompany = sizeof(sbx_pool_subcompany) / sizeof(sbx_pool_subcompany[0]);

const struct sbx_pool_location sbx_pool_location[] = {
    {"München", 0, "+49 151", "DE", "Bayern"},       {"Zürich", 3, "+41 79", "CH", "Zürich"},
    {"São Paulo", 2, "+55 11 9", "BR", "São Paulo"}, {"New York", 1, "+1 212", "US", "New York"},
    {"London", 1, "+44 7700", "GB", "England"},      {"Kraków", 0, "+48 512", "PL", "Małopolskie"},
    {"Remote", 1, "+1 415", "US", "California"},
};
const size_t sbx_pool_nlocation = sizeof(sbx_pool_location) / sizeof(sbx_pool_location[0]);

const struct sbx_pool_location *sbx_pool_location_named(const char *name)
{
    for (size_t i = 0; i < sbx_pool_nlocation; i++)
        if (strcmp(sbx_pool_location[i].name, name) == 0)
            return &sbx_pool_location[i];
    return NULL;
}
