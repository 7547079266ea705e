//go:build !unix

package report

import "io"

// termWidth is 0 (unknown) where the terminal cannot be asked.
func termWidth(io.Writer) int { return 0 }
