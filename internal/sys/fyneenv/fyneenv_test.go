package fyneenv

import "testing"

type env map[string]string

func (e env) get(k string) string   { return e[k] }
func (e env) set(k, v string) error { e[k] = v; return nil }
func (e env) copy() env {
	c := env{}
	for k, v := range e {
		c[k] = v
	}
	return c
}

func TestLocale(t *testing.T) {
	for _, c := range []struct {
		env  env
		want string // LANGUAGE afterwards
	}{
		{env{"LANG": "C.UTF-8"}, "en"},
		{env{"LANG": "POSIX.utf8"}, "en"},
		{env{"LC_ALL": "C.UTF-8", "LANG": "de_DE.UTF-8"}, "en"},
		{env{"LC_MESSAGES": "C@euro"}, "en"},
		{env{"LANG": "C"}, ""},
		{env{"LANG": "de_DE.UTF-8"}, ""},
		{env{"LC_ALL": "fr_FR.UTF-8", "LANG": "C.UTF-8"}, ""},
		{env{"LANG": "C.UTF-8", "LANGUAGE": "fr"}, "fr"},
		{env{}, ""},
	} {
		e := c.env.copy()
		Locale(e.get, e.set)
		if e["LANGUAGE"] != c.want {
			t.Errorf("%v: LANGUAGE = %q, want %q", c.env, e["LANGUAGE"], c.want)
		}
	}
}

func TestBus(t *testing.T) {
	withBus := func(p string) bool { return p == "/run/user/1/bus" }
	for _, c := range []struct {
		env  env
		want string // DBUS_SESSION_BUS_ADDRESS afterwards
	}{
		{env{}, NoBus},
		{env{"DBUS_SESSION_BUS_ADDRESS": "autolaunch:"}, NoBus},
		{env{"XDG_RUNTIME_DIR": "/run/user/2"}, NoBus},
		{env{"XDG_RUNTIME_DIR": "/run/user/1"}, ""},
		{env{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}, "unix:path=/x"},
	} {
		e := c.env.copy()
		Bus(e.get, e.set, withBus)
		if e["DBUS_SESSION_BUS_ADDRESS"] != c.want {
			t.Errorf("%v: DBUS_SESSION_BUS_ADDRESS = %q, want %q", c.env, e["DBUS_SESSION_BUS_ADDRESS"], c.want)
		}
	}
}
