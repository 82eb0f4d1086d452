package pipeline

import (
	"reflect"
	"testing"
)

func TestAddUser(t *testing.T) {
	tests := []struct {
		name  string
		actor string
		nu    *NewUser
		want  error // nil when the user is added
		msg   string
	}{
		{"by admin", "admin", testUser("Max", NodeStaff, "MUC", ""), nil, ""},
		{"division user", "admin", testUser("Max", DivisionRole, "", "BOHAI"), nil, ""},
		{"by reviewer", "hq", testUser("Max", NodeStaff, "MUC", ""), ErrPermission, "ADMIN"},
		{"by staff", "bos", testUser("Max", NodeStaff, "BOS", ""), ErrPermission, "ADMIN"},
		{"by division", "yrd", testUser("Max", DivisionRole, "", "YRD"), ErrPermission, "ADMIN"},
		{"token in use", "admin", testUser("Beth Boston", NodeStaff, "MUC", ""), ErrInvalid, "token"},
		{"unknown actor", "user-0042", testUser("Max", NodeStaff, "MUC", ""), ErrUnauthenticated, "user-0042"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			cmd := Command{Op: OpAddUser, NewUser: tt.nu}
			if tt.want != nil {
				var res any
				assertUnchanged(t, f.st, func() { res = f.apply(tt.actor, cmd) })
				wantError(t, res, tt.want, tt.msg)
				return
			}
			got := f.ok(tt.actor, cmd).User
			want := &User{ID: "user-0008", Name: tt.nu.Name, Role: tt.nu.Role, Site: tt.nu.Site, Division: tt.nu.Division,
				Created: clock(f.index), CreatedBy: f.user(tt.actor)}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("added user = %+v\nwant %+v", got, want)
			}
			if u, err := f.st.UserByTokenHash(tt.nu.TokenHash); err != nil || !reflect.DeepEqual(u, want) {
				t.Errorf("UserByTokenHash = %+v, %v; want %+v", u, err, want)
			}
		})
	}
}
