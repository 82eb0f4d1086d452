package main

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"google.golang.org/protobuf/proto"

	pb "innonet/proto/innonet/v1"
)

// submitBodySize is the size of every SubmitLead body the benchmark sends,
// in bytes of protobuf: issue 18's figure, set against etcd puts of a
// 16-byte key and a 450-byte value.
const submitBodySize = 457

// leads makes the benchmark's new leads. Every lead differs from the
// others, as real ones do: its own organisation, contact and mail domain,
// and a text of which about a third are common technical words and the
// rest words of its own (made of syllables). The site checks every
// submission for duplicates; leads that all looked alike would measure
// that check (and answer with long lists of possible duplicates) rather
// than a write.
type leads struct {
	// prefix makes the request IDs of one run of the benchmark its own.
	prefix string
}

var (
	leadWords = strings.Fields(`adaptive additive aerosol algae alloy antibody aptamer assay autonomous
		battery bearing binder biochar biofilm biosensor cathode ceramic chiplet coating composite
		compressor converter cryogenic diagnostic diode drone electrolyte enzyme epitaxy exoskeleton
		fermentation fiber filtration fluidic forging gallium genome graphene gripper hydrogel hydrogen
		imaging implant inverter isotope laser lattice lidar lithography magnet membrane metrology
		microbiome microfluidic modular nanowire neural optic organoid oxide peptide perovskite photonic
		piezo plasma polymer precision printing probe protein quantum radar reactor recycling robotic
		scaffold semiconductor sensor separator silicon sodium solar spectroscopy stack substrate
		sulfide superconductor thermal titanium transistor turbine ultrasound vaccine vector wafer
		welding`)
	leadSyllables = strings.Fields(`ax bel cor dan el fen gar hal io jun kel lor mar nov or pel quin
		ras sol tev ur vin wes xan yor zel`)
	leadCountries = []string{"US", "GB", "DE", "IL", "FR", "NL", "CH", "SE", "JP", "KR", "CA", "FI"}
	leadOrgKinds  = []string{"Labs", "GmbH", "Ltd", "Inc.", "AG", "Technologies", "Institute", "Systems"}
)

// request is lead i of the run: a request ID of its own and, for the same
// i, always the same lead. Its body is submitBodySize bytes.
func (l leads) request(i int) (*pb.SubmitLeadRequest, error) {
	rng := rand.New(rand.NewPCG(uint64(i), 0x696e6e6f6e6574))
	coined := func(syllables int) string {
		var b strings.Builder
		for range syllables {
			b.WriteString(leadSyllables[rng.IntN(len(leadSyllables))])
		}
		return b.String()
	}
	words := func(n int) []string {
		out := make([]string, n)
		for j := range out {
			if rng.IntN(3) == 0 {
				out[j] = leadWords[rng.IntN(len(leadWords))]
			} else {
				out[j] = coined(2 + rng.IntN(2))
			}
		}
		return out
	}
	name := func(syllables int) string {
		s := coined(syllables)
		return strings.ToUpper(s[:1]) + s[1:]
	}
	title := words(5)
	title[0] = strings.ToUpper(title[0][:1]) + title[0][1:]
	orgName := name(4)
	org := orgName + " " + name(2) + " " + leadOrgKinds[rng.IntN(len(leadOrgKinds))]
	first, last := name(2), name(3)
	r := &pb.SubmitLeadRequest{
		RequestId:    fmt.Sprintf("%s-%09d", l.prefix, i),
		Title:        strings.Join(title, " "),
		Organization: org,
		Country:      leadCountries[rng.IntN(len(leadCountries))],
		Sector:       pb.Sector(1 + rng.IntN(len(pb.Sector_name)-1)),
		Trl:          int32(1 + rng.IntN(9)),
		DealType:     pb.DealType(1 + rng.IntN(len(pb.DealType_name)-1)),
		Tags:         words(2),
		Language:     "en",
		Contacts: []*pb.Contact{{Name: first + " " + last,
			Email: strings.ToLower(first+"."+last+"@"+orgName) + ".example"}},
	}
	// The summary takes what is left: a tag byte, a two-byte length
	// (128 to 16383 bytes) and the text.
	n := submitBodySize - proto.Size(r) - 3
	if n < 128 {
		return nil, fmt.Errorf("lead %d: %d bytes without its summary, too many for a %d-byte body", i, proto.Size(r), submitBodySize)
	}
	var sum strings.Builder
	for sum.Len() < n {
		sum.WriteString(strings.Join(words(8), " "))
		sum.WriteString(". ")
	}
	r.Summary = strings.TrimRight(sum.String()[:n-1], " ") + "."
	r.Summary += strings.Repeat(".", n-len(r.Summary))
	return r, nil
}
