import { describe, expect, it } from 'vitest';
import { changesToCommands } from '../api/config-ops';
import {
  dnsChanges,
  firewallChanges,
  internetChanges,
  lanChanges,
  type MenuRows,
  parseCidr,
  portForwardChanges,
  readDns,
  readFirewall,
  readInternet,
  readLan,
  readPortForwards,
  readSystem,
  readWifi,
  systemChanges,
  validateDns,
  validateInternet,
  validateLan,
  wifiChanges,
} from './simple-config';

// A home-office router as `menu.print` returns it: DHCP on ether1, bridge LAN with a DHCP server.
const HOME: MenuRows = {
  '/interface': [
    { '.id': '*1', name: 'ether1', type: 'ether' },
    { '.id': '*A', name: 'bridge', type: 'bridge' },
  ],
  '/ip/dhcp-client': [{ '.id': '*1', interface: 'ether1', disabled: 'false' }],
  '/ip/address': [
    {
      '.id': '*1',
      address: '192.168.88.1/24',
      interface: 'bridge',
      network: '192.168.88.0',
      dynamic: 'false',
    },
    { '.id': '*2', address: '100.64.1.20/24', interface: 'ether1', dynamic: 'true' },
  ],
  '/ip/route': [{ '.id': '*5', 'dst-address': '0.0.0.0/0', gateway: '100.64.1.1', dynamic: 'true' }],
  '/ip/dhcp-server': [
    {
      '.id': '*1',
      name: 'defconf',
      interface: 'bridge',
      'address-pool': 'default-dhcp',
      'lease-time': '30m',
      disabled: 'false',
    },
  ],
  '/ip/pool': [{ '.id': '*1', name: 'default-dhcp', ranges: '192.168.88.10-192.168.88.254' }],
  '/ip/dhcp-server/network': [
    { '.id': '*1', address: '192.168.88.0/24', gateway: '192.168.88.1', 'dns-server': '' },
  ],
  '/interface/wireless': [
    {
      '.id': '*3',
      name: 'wlan1',
      ssid: 'Office',
      'security-profile': 'default',
      frequency: 'auto',
      band: '2ghz-b/g/n',
    },
  ],
  '/interface/wireless/security-profiles': [{ '.id': '*0', name: 'default', mode: 'none' }],
  '/ip/firewall/nat': [
    { '.id': '*1', chain: 'srcnat', action: 'masquerade', 'out-interface': 'ether1' },
    {
      '.id': '*2',
      chain: 'dstnat',
      action: 'dst-nat',
      protocol: 'tcp',
      'dst-port': '8080',
      'to-addresses': '192.168.88.20',
      'to-ports': '80',
      disabled: 'false',
    },
  ],
  '/ip/firewall/filter': [
    {
      '.id': '*1',
      chain: 'input',
      action: 'accept',
      'connection-state': 'established,related',
      comment: 'tod: accept established,related',
      disabled: 'false',
    },
    {
      '.id': '*2',
      chain: 'input',
      action: 'drop',
      'connection-state': 'invalid',
      comment: 'tod: drop invalid',
      disabled: 'true',
    },
  ],
  '/ip/dns': [{ servers: '1.1.1.1', 'allow-remote-requests': 'true' }],
  '/system/identity': [{ name: 'office-gw' }],
  '/system/clock': [{ 'time-zone-name': 'Europe/Berlin' }],
  '/system/ntp/client': [{ enabled: 'false', servers: '' }],
  '/user': [{ '.id': '*1', name: 'admin', group: 'full' }],
};

describe('Simple Config: Internet', () => {
  it('reads a DHCP client on the WAN port', () => {
    expect(readInternet(HOME)).toMatchObject({ mode: 'dhcp', interface: 'ether1' });
  });

  it('applies nothing for an untouched form', () => {
    expect(internetChanges(HOME, readInternet(HOME))).toEqual([]);
    for (const [read, diff] of [
      [readLan, lanChanges],
      [readWifi, wifiChanges],
      [readPortForwards, portForwardChanges],
      [readFirewall, firewallChanges],
      [readDns, dnsChanges],
      [readSystem, systemChanges],
    ] as const) {
      // biome-ignore lint/suspicious/noExplicitAny: each pair shares its model type
      expect((diff as any)(HOME, (read as any)(HOME))).toEqual([]);
    }
  });

  it('switches DHCP to a static address: removes the client, adds the address and default route', () => {
    const want = {
      ...readInternet(HOME),
      mode: 'static' as const,
      address: '203.0.113.10/24',
      gateway: '203.0.113.1',
    };
    expect(internetChanges(HOME, want)).toEqual([
      { action: 'remove', path: '/ip/dhcp-client', id: '*1' },
      { action: 'add', path: '/ip/address', values: { address: '203.0.113.10/24', interface: 'ether1' } },
      { action: 'add', path: '/ip/route', values: { 'dst-address': '0.0.0.0/0', gateway: '203.0.113.1' } },
    ]);
  });

  it('reads a static setup back from its address and default route', () => {
    const m: MenuRows = {
      '/ip/address': [{ '.id': '*7', address: '203.0.113.10/24', interface: 'ether1' }],
      '/ip/route': [{ '.id': '*8', 'dst-address': '0.0.0.0/0', gateway: '203.0.113.1' }],
    };
    expect(readInternet(m)).toMatchObject({
      mode: 'static',
      interface: 'ether1',
      address: '203.0.113.10/24',
      gateway: '203.0.113.1',
    });
    const moved = internetChanges(m, { ...readInternet(m), gateway: '203.0.113.254' });
    expect(moved).toEqual([
      { action: 'set', path: '/ip/route', id: '*8', values: { gateway: '203.0.113.254' } },
    ]);
  });

  it('switches to PPPoE with the password only when one is typed', () => {
    const want = {
      ...readInternet(HOME),
      mode: 'pppoe' as const,
      pppoeUser: 'cust42',
      pppoePassword: 's3cret',
    };
    expect(internetChanges(HOME, want)).toEqual([
      { action: 'remove', path: '/ip/dhcp-client', id: '*1' },
      {
        action: 'add',
        path: '/interface/pppoe-client',
        values: {
          name: 'pppoe-out1',
          interface: 'ether1',
          user: 'cust42',
          'add-default-route': 'yes',
          'use-peer-dns': 'yes',
          disabled: 'no',
          password: 's3cret',
        },
      },
    ]);
    const withPppoe: MenuRows = {
      '/interface/pppoe-client': [
        {
          '.id': '*9',
          name: 'pppoe-out1',
          interface: 'ether1',
          user: 'cust42',
          'add-default-route': 'true',
          'use-peer-dns': 'true',
          disabled: 'false',
        },
      ],
    };
    expect(readInternet(withPppoe)).toMatchObject({ mode: 'pppoe', pppoeUser: 'cust42', pppoePassword: '' });
    expect(internetChanges(withPppoe, readInternet(withPppoe))).toEqual([]);
  });

  it('validates a static address and gateway', () => {
    const base = readInternet(HOME);
    expect(validateInternet({ ...base, mode: 'static', address: '203.0.113.10', gateway: 'x' })).toHaveLength(
      2,
    );
    expect(validateInternet({ ...base, mode: 'pppoe' })).toEqual(['PPPoE needs a user name']);
  });
});

describe('Simple Config: LAN and DHCP server', () => {
  it('reads the bridge address, the pool and the DHCP server', () => {
    expect(readLan(HOME)).toEqual({
      interface: 'bridge',
      address: '192.168.88.1/24',
      dhcpEnabled: true,
      poolRange: '192.168.88.10-192.168.88.254',
      leaseTime: '30m',
      dnsServers: [],
    });
  });

  it('moves the LAN to another subnet: address, pool, and a new DHCP network', () => {
    const want = {
      ...readLan(HOME),
      address: '10.10.0.1/24',
      poolRange: '10.10.0.100-10.10.0.200',
      dnsServers: ['10.10.0.1'],
    };
    expect(lanChanges(HOME, want)).toEqual([
      { action: 'set', path: '/ip/address', id: '*1', values: { address: '10.10.0.1/24' } },
      { action: 'set', path: '/ip/pool', id: '*1', values: { ranges: '10.10.0.100-10.10.0.200' } },
      { action: 'remove', path: '/ip/dhcp-server/network', id: '*1' },
      {
        action: 'add',
        path: '/ip/dhcp-server/network',
        values: { address: '10.10.0.0/24', gateway: '10.10.0.1', 'dns-server': '10.10.0.1' },
      },
    ]);
  });

  it('disables the DHCP server without touching the rest', () => {
    expect(lanChanges(HOME, { ...readLan(HOME), dhcpEnabled: false })).toEqual([
      { action: 'disable', path: '/ip/dhcp-server', id: '*1' },
    ]);
  });

  it('validates the address and the pool range', () => {
    expect(validateLan({ ...readLan(HOME), address: '10.0.0.1', poolRange: 'a-b' })).toHaveLength(2);
  });
});

describe('Simple Config: Wi-Fi, port forwarding, firewall, DNS, system', () => {
  it('sets the SSID, WPA2 with the typed key, and the channel', () => {
    const want = {
      ...readWifi(HOME),
      ssid: 'Office 5',
      security: 'wpa2-psk' as const,
      passphrase: 'long-passphrase',
      frequency: '2437',
    };
    expect(wifiChanges(HOME, want)).toEqual([
      {
        action: 'set',
        path: '/interface/wireless/security-profiles',
        id: '*0',
        values: {
          mode: 'dynamic-keys',
          'authentication-types': 'wpa2-psk',
          'wpa2-pre-shared-key': 'long-passphrase',
        },
      },
      {
        action: 'set',
        path: '/interface/wireless',
        id: '*3',
        values: { ssid: 'Office 5', frequency: '2437' },
      },
    ]);
  });

  it('adds, edits and removes port forwards by their NAT rule', () => {
    const [fwd] = readPortForwards(HOME);
    expect(fwd).toEqual({
      id: '*2',
      protocol: 'tcp',
      dstPort: '8080',
      toAddress: '192.168.88.20',
      toPort: '80',
      inInterface: '',
      comment: '',
      disabled: false,
    });
    expect(
      portForwardChanges(HOME, [
        { ...fwd!, toPort: '8081', disabled: true },
        {
          protocol: 'udp',
          dstPort: '51820',
          toAddress: '192.168.88.30',
          toPort: '',
          inInterface: 'ether1',
          comment: 'vpn',
          disabled: false,
        },
      ]),
    ).toEqual([
      { action: 'set', path: '/ip/firewall/nat', id: '*2', values: { 'to-ports': '8081' } },
      { action: 'disable', path: '/ip/firewall/nat', id: '*2' },
      {
        action: 'add',
        path: '/ip/firewall/nat',
        values: {
          chain: 'dstnat',
          action: 'dst-nat',
          protocol: 'udp',
          'dst-port': '51820',
          'to-addresses': '192.168.88.30',
          'to-ports': '51820',
          'in-interface': 'ether1',
          comment: 'vpn',
        },
      },
    ]);
    expect(portForwardChanges(HOME, [])).toEqual([{ action: 'remove', path: '/ip/firewall/nat', id: '*2' }]);
  });

  it('turns the basic firewall rules on and off by their comments', () => {
    expect(readFirewall(HOME)).toEqual({
      acceptEstablished: true,
      dropInvalid: false,
      acceptIcmp: false,
      dropWanInput: false,
    });
    expect(
      firewallChanges(HOME, {
        acceptEstablished: false,
        dropInvalid: true,
        acceptIcmp: true,
        dropWanInput: false,
      }),
    ).toEqual([
      { action: 'disable', path: '/ip/firewall/filter', id: '*1' },
      { action: 'enable', path: '/ip/firewall/filter', id: '*2' },
      {
        action: 'add',
        path: '/ip/firewall/filter',
        values: { chain: 'input', action: 'accept', protocol: 'icmp', comment: 'tod: accept icmp' },
      },
    ]);
  });

  it('sets DNS servers on the single /ip/dns item (no id)', () => {
    expect(readDns(HOME)).toEqual({ servers: ['1.1.1.1'], allowRemoteRequests: true });
    expect(dnsChanges(HOME, { servers: ['9.9.9.9', '1.1.1.1'], allowRemoteRequests: true })).toEqual([
      { action: 'set', path: '/ip/dns', values: { servers: '9.9.9.9,1.1.1.1' } },
    ]);
    expect(validateDns({ servers: ['9.9.9.9', 'nonsense'], allowRemoteRequests: false })).toEqual([
      'nonsense is not an IP address',
    ]);
  });

  it('sets identity, time zone, NTP and the admin password', () => {
    expect(readSystem(HOME)).toEqual({
      identity: 'office-gw',
      timeZone: 'Europe/Berlin',
      ntpEnabled: false,
      ntpServers: [],
      adminPassword: '',
    });
    expect(
      systemChanges(HOME, {
        identity: 'branch-7',
        timeZone: 'Europe/Vienna',
        ntpEnabled: true,
        ntpServers: ['pool.ntp.org'],
        adminPassword: 'n3w',
      }),
    ).toEqual([
      { action: 'set', path: '/system/identity', values: { name: 'branch-7' } },
      { action: 'set', path: '/system/clock', values: { 'time-zone-name': 'Europe/Vienna' } },
      { action: 'set', path: '/system/ntp/client', values: { enabled: 'yes', servers: 'pool.ntp.org' } },
      { action: 'set', path: '/user', id: '*1', values: { password: 'n3w' } },
    ]);
  });

  it('parses IPv4 prefixes', () => {
    expect(parseCidr('192.168.88.1/24')).toEqual({
      ip: '192.168.88.1',
      prefix: 24,
      network: '192.168.88.0/24',
    });
    expect(parseCidr('300.1.1.1/24')).toBeNull();
  });
});

describe('Simple Config changes are valid editor changes', () => {
  it('render to RouterOS commands through changesToCommands', () => {
    const changes = [
      ...dnsChanges(HOME, { servers: ['9.9.9.9'], allowRemoteRequests: false }),
      ...systemChanges(HOME, { ...readSystem(HOME), identity: 'branch 7' }),
      ...portForwardChanges(HOME, []),
    ];
    expect(changesToCommands(changes)).toEqual([
      '/ip dns set servers=9.9.9.9 allow-remote-requests=no',
      '/system identity set name="branch 7"',
      '/ip firewall nat remove *2',
    ]);
  });
});
