// Package icons holds perch's tray icons (one per link state) and its
// application icon, as PNG bytes embedded in the binary. gen.go draws them.
package icons

import _ "embed"

//go:generate go run gen.go

// Tray icons, 64×64, one per state the tray shows.
var (
	//go:embed disconnected.png
	Disconnected []byte
	//go:embed connecting.png
	Connecting []byte
	//go:embed connected.png
	Connected []byte
	//go:embed degraded.png
	Degraded []byte
)

// App is the application icon, 256×256.
//
//go:embed perch.png
var App []byte
