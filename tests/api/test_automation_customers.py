"""ticket.created conditions on customer.name, customer.tags and customer.custom_fields.* see the
stored customer when the email belongs to one (a create does not merge the request's customer
members into it), and the request's members for a new customer (docs/automation.md)."""
from test_automations import create_rule
from ticket_helpers import create_custom_field, new_email


def create(api, token, customer, subject='hello'):
    r = api.post('/v1/tickets', token=token, json={'subject': subject, 'customer': customer})
    assert r.status_code == 201, r.text
    return r.json()


def test_stored_customer_fields(api, admin_key):
    create_custom_field(api, admin_key.token, 'customer', 'plan', 'text')
    vip = create_rule(api, admin_key.token, name='vip', conditions={'any': [
        {'field': 'customer.tags', 'op': 'contains', 'value': 'vip'},
        {'field': 'customer.name', 'op': 'eq', 'value': 'Ada'},
        {'field': 'customer.custom_fields.plan', 'op': 'eq', 'value': 'gold'}]},
        actions=[{'type': 'set_priority', 'value': 'urgent'}])
    assert vip['id']
    for stored in ({'tags': ['vip']}, {'name': 'Ada'}, {'custom_fields': {'plan': 'gold'}}):
        email = new_email()
        r = api.post('/v1/customers', token=admin_key.token, json={'email': email, **stored})
        assert r.status_code == 201, r.text
        # the request says otherwise: the stored customer is what the rule sees
        t = create(api, admin_key.token, {'email': email.upper(), 'name': 'Bob', 'tags': ['plain'],
                                          'custom_fields': {'plan': 'free'}})
        assert t['priority'] == 'urgent', stored
    # a stored customer without them does not match, whatever the request says
    email = new_email()
    assert api.post('/v1/customers', token=admin_key.token, json={'email': email, 'name': 'Bob'}).status_code == 201
    t = create(api, admin_key.token, {'email': email, 'name': 'Ada', 'tags': ['vip'], 'custom_fields': {'plan': 'gold'}})
    assert t['priority'] == 'normal'


def test_new_customer_fields_are_the_requests(api, admin_key):
    create_rule(api, admin_key.token, name='vip', conditions={'all': [
        {'field': 'customer.tags', 'op': 'contains', 'value': 'vip'}]}, actions=[{'type': 'set_priority', 'value': 'high'}])
    assert create(api, admin_key.token, {'email': new_email(), 'tags': ['VIP']})['priority'] == 'high'
    assert create(api, admin_key.token, {'email': new_email(), 'tags': ['other']})['priority'] == 'normal'
