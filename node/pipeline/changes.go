package pipeline

// Change is one field a command changed, with its value before and after,
// as history events list them (empty: the field was not set).
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}
