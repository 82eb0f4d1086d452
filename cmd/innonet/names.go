package main

// userText shows a user as people read it: "Anna Berg (user-0005)", or
// the ID alone when the answer carries no name.
func userText(name, id string) string {
	switch {
	case id == "":
		return ""
	case name == "":
		return id
	}
	return name + " (" + id + ")"
}
