package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"
)

// user is a sample user as printed on stdout.
type user struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Site     string `json:"site,omitempty"`
	Division string `json:"division,omitempty"`
	Token    string `json:"token,omitempty"`
}

// sampleUsers are the people of `innonet demo`: HQ review first.
var sampleUsers = []user{
	{Name: "Li Wei (HQ review)", Role: "HQ_REVIEWER"},
	{Name: "Emily Carter", Role: "NODE_STAFF", Site: "BOS"},
	{Name: "Oliver Hughes", Role: "NODE_STAFF", Site: "CBG"},
	{Name: "Lukas Bauer", Role: "NODE_STAFF", Site: "MUC"},
	{Name: "Noa Levi", Role: "NODE_STAFF", Site: "TLV"},
	{Name: "Zhang Min", Role: "DIVISION", Division: "BOHAI"},
	{Name: "Chen Jie", Role: "DIVISION", Division: "YRD"},
	{Name: "Huang Lei", Role: "DIVISION", Division: "PRD"},
}

// loaded reports whether the sample users are there already: a run
// before this one created them.
func loaded(ctx context.Context, c *client, admin string) (bool, error) {
	var out struct {
		Users []struct{ Name string }
	}
	if err := c.write(ctx, http.MethodGet, "/v1/users", admin, nil, &out); err != nil {
		return false, fmt.Errorf("list users: %w", err)
	}
	for _, u := range out.Users {
		if u.Name == sampleUsers[0].Name {
			return true, nil
		}
	}
	return false, nil
}

// requestID returns a new request ID, a UUIDv7: a retry of one write
// sends the same body and so the same ID, and the cluster can tell a
// retry from after its retention window by the time the ID carries.
func requestID() string { return uuid.Must(uuid.NewV7()).String() }

func createUsers(ctx context.Context, c *client, admin string) ([]user, error) {
	users := make([]user, len(sampleUsers))
	for i, u := range sampleUsers {
		in := map[string]any{"requestId": requestID(), "name": u.Name, "role": u.Role}
		if u.Site != "" {
			in["site"] = u.Site
		}
		if u.Division != "" {
			in["division"] = u.Division
		}
		var out struct{ Token string }
		if err := c.write(ctx, http.MethodPost, "/v1/users", admin, in, &out); err != nil {
			return nil, fmt.Errorf("create sample user %s: %w", u.Name, err)
		}
		u.Token = out.Token
		users[i] = u
	}
	return users, nil
}

// lead is the part of a lead the seed reads back.
type lead struct {
	ID string `json:"id"`
}

// sampleLead is a lead, the index of the user who submits it, and what
// happens to it next.
type sampleLead struct {
	by      int
	fields  map[string]any
	review  string // APPROVE, RETURN or "" (left in the intake queue)
	comment string
	claimBy int // index of the claiming division's user, 0 for none
}

var sampleLeads = []sampleLead{
	{by: 1, review: "APPROVE", comment: "Strong fit for the biomedicine cluster.", claimBy: 6, fields: map[string]any{
		"title":        "Calcineurin-free immunosuppressant for organ transplant",
		"summary":      "Phase II small molecule with lower nephrotoxicity than tacrolimus; seeking a licensing partner and a GMP site in China.",
		"organization": "Harbor Bio Therapeutics", "country": "US", "sector": "LIFE_SCIENCES_HEALTH", "trl": 6,
		"dealType": "TECHNOLOGY_LICENSING", "tags": []string{"transplant", "small molecule"}, "language": "en",
		"contacts": []map[string]string{{"name": "Dr. Sarah Kim", "email": "s.kim@harborbio.example"}}}},
	{by: 1, review: "RETURN", comment: "Please add the pilot line capacity and the funding round.", fields: map[string]any{
		"title": "Solid-state electrolyte for EV batteries", "summary": "MIT spin-out with a sulfide electrolyte at pilot scale.",
		"organization": "Voltline Materials", "country": "US", "sector": "NEW_ENERGY_VEHICLES", "trl": 4,
		"dealType": "INVESTMENT", "language": "en"}},
	{by: 2, review: "APPROVE", claimBy: 5, fields: map[string]any{
		"title":        "Bioengineering research centre",
		"summary":      "Joint research centre for synthetic biology with a Cambridge institute; 20 researchers in year one.",
		"organization": "Cambridge Synthetic Biology Institute", "country": "GB", "sector": "LIFE_SCIENCES_HEALTH", "trl": 3,
		"dealType": "RND_COLLABORATION", "language": "en"}},
	{by: 3, review: "APPROVE", fields: map[string]any{
		"title":        "Präzisionsgetriebe für Industrieroboter",
		"summary":      "Mittelständischer Hersteller von Cycloidgetrieben sucht ein Joint Venture für die Fertigung in China.",
		"organization": "Bavaria Präzisionsantriebe GmbH", "country": "DE", "sector": "ADVANCED_MANUFACTURING", "trl": 8,
		"dealType": "JOINT_VENTURE", "language": "de"}},
	{by: 4, fields: map[string]any{
		"title":        "Future-chain lab: AI for supply chains",
		"summary":      "מעבדת שרשרת העתיד — AI planning for resilient supply chains; plans a lab and regional headquarters in the zone.",
		"organization": "Negev Future Chain Lab", "country": "IL", "sector": "IT_AI", "trl": 5,
		"dealType": "RELOCATION", "language": "he"}},
}

// submitLeads submits the sample leads, reviews them as HQ and lets the
// divisions claim some.
func submitLeads(ctx context.Context, c *client, users []user) error {
	hq := users[0].Token
	for _, s := range sampleLeads {
		in := map[string]any{"requestId": requestID()}
		for k, v := range s.fields {
			in[k] = v
		}
		var l lead
		if err := c.write(ctx, http.MethodPost, "/v1/leads", users[s.by].Token, in, &l); err != nil {
			return fmt.Errorf("submit sample lead %q: %w", s.fields["title"], err)
		}
		if s.review != "" {
			review := map[string]any{"requestId": requestID(), "decision": s.review, "comment": s.comment}
			if err := c.write(ctx, http.MethodPost, "/v1/leads/"+l.ID+":review", hq, review, nil); err != nil {
				return fmt.Errorf("review sample lead %s: %w", l.ID, err)
			}
		}
		if s.claimBy != 0 {
			claim := map[string]any{"requestId": requestID()}
			if err := c.write(ctx, http.MethodPost, "/v1/leads/"+l.ID+":claim", users[s.claimBy].Token, claim, nil); err != nil {
				return fmt.Errorf("claim sample lead %s: %w", l.ID, err)
			}
		}
	}
	return nil
}
