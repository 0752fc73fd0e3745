module github.com/perchdesk/perch

go 1.26.8

require (
	github.com/BurntSushi/toml v1.6.0 // indirect
	github.com/jezek/xgb v1.3.0 // indirect
	github.com/kevinburke/ssh_config v1.6.0 // indirect
	golang.org/x/crypto v0.59.0 // indirect
)
