//go:build linux

package fault

// Kinds lists every kernel fault kind, one file each. Adding a kind is
// that file and one line here.
func Kinds() []Kind {
	return []Kind{
		dropKind(),
		blackholeKind(),
		bandwidthKind(),
		linkDownKind(),
		flapKind(),
		netemKind(),
	}
}
