package sshconf

import "strings"

// keywords are the keywords OpenSSH's ssh(1) accepts in ssh_config (with
// Debian's GSSAPI additions and the deprecated ones it still parses, and
// Tag from OpenSSH 9.4), lower case; ssh refuses any other unless IgnoreUnknown names it.
var keywords = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, k := range strings.Fields(`
		host match include ignoreunknown
		addkeystoagent addressfamily batchmode bindaddress bindinterface
		canonicaldomains canonicalizefallbacklocal canonicalizehostname
		canonicalizemaxdots canonicalizepermittedcnames casignaturealgorithms
		certificatefile channeltimeout checkhostip ciphers clearallforwardings
		compression connectionattempts connecttimeout controlmaster controlpath
		controlpersist dynamicforward enableescapecommandline enablesshkeysign
		escapechar exitonforwardfailure fingerprinthash forkafterauthentication
		forwardagent forwardx11 forwardx11timeout forwardx11trusted gatewayports
		globalknownhostsfile gssapiauthentication gssapidelegatecredentials
		gssapiclientidentity gssapikeyexchange gssapikexalgorithms
		gssapirenewalforcesrekey gssapiserveridentity gssapitrustdns
		hashknownhosts hostbasedacceptedalgorithms hostbasedauthentication
		hostbasedkeytypes hostkeyalgorithms hostkeyalias hostname identitiesonly
		identityagent identityfile ipqos kbdinteractiveauthentication
		kbdinteractivedevices kexalgorithms knownhostscommand localcommand
		localforward loglevel logverbose macs nohostauthenticationforlocalhost
		numberofpasswordprompts obscurekeystroketiming passwordauthentication
		permitlocalcommand permitremoteopen pkcs11provider port
		preferredauthentications proxycommand proxyjump proxyusefdpass
		pubkeyacceptedalgorithms pubkeyacceptedkeytypes pubkeyauthentication
		refuseconnection rekeylimit remotecommand remoteforward requesttty
		requiredrsasize revokedhostkeys securitykeyprovider sendenv
		serveralivecountmax serveraliveinterval sessiontype setenv stdinnull
		streamlocalbindmask streamlocalbindunlink stricthostkeychecking
		syslogfacility tag tcpkeepalive tunnel tunneldevice updatehostkeys
		user userknownhostsfile verifyhostkeydns versionaddendum visualhostkey
		warnweakcrypto xauthlocation
		afstokenpassing challengeresponseauthentication cipher compressionlevel
		dsaauthentication fallbacktorsh keepalive
		kerberosauthentication kerberostgtpassing protocol rhostsauthentication
		rhostsrsaauthentication rsaauthentication skeyauthentication
		smartcarddevice tisauthentication useblacklistedkeys useprivilegedport
		useroaming usersh
		identityfile2 userknownhostsfile2 globalknownhostsfile2
		protocolkeepalives setuptimeout
	`) {
		m[k] = struct{}{}
	}
	return m
}()
