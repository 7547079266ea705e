package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Files are the paths WriteAll wrote.
type Files struct {
	Dir   string
	JSON  string // report.json
	Text  string // report.txt
	HTML  string // report.html
	JUnit string // junit.xml
}

// WriteAll writes report.json, report.txt, report.html and junit.xml into
// dir, creating it if needed. It writes every file it can and returns the
// errors of those it could not.
func WriteAll(dir string, r *Report) (Files, error) {
	f := Files{
		Dir:   dir,
		JSON:  filepath.Join(dir, "report.json"),
		Text:  filepath.Join(dir, "report.txt"),
		HTML:  filepath.Join(dir, "report.html"),
		JUnit: filepath.Join(dir, "junit.xml"),
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return f, fmt.Errorf("report directory: %w", err)
	}
	return f, errors.Join(
		writeFile(f.JSON, r, WriteJSON),
		writeFile(f.Text, r, WriteText),
		writeFile(f.HTML, r, WriteHTML),
		writeFile(f.JUnit, r, WriteJUnit),
	)
}

func writeFile(name string, r *Report, write func(io.Writer, *Report) error) (err error) {
	file, err := os.Create(name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := file.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriter(file)
	if err := write(bw, r); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
